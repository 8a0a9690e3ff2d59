import { createHmac } from 'node:crypto';
import { nextAttemptDelayMs, signWebhook, verifyWebhook } from './alert-webhook';

describe('alert webhook signature', () => {
  const secret = 'whsec-test-0123456789';
  const body = '{"alertId":"7","kind":"stage.reverted","summary":"reverted"}';

  it('is HMAC-SHA256 of "<timestamp>.<body>" with the secret, as a receiver recomputes it', () => {
    const expected = createHmac('sha256', secret).update(`1764547200.${body}`).digest('hex');
    expect(signWebhook(secret, body, 1764547200)).toBe(`t=1764547200,v1=${expected}`);
  });

  it('verifies a fresh signature over the exact body', () => {
    const header = signWebhook(secret, body, 1764547200);
    expect(verifyWebhook(secret, body, header, 1764547260)).toBe(true);
  });

  it('refuses another body, another secret, a stale or future timestamp, and no header', () => {
    const header = signWebhook(secret, body, 1764547200);
    expect(verifyWebhook(secret, `${body} `, header, 1764547200)).toBe(false);
    expect(verifyWebhook('another-secret-0123', body, header, 1764547200)).toBe(false);
    expect(verifyWebhook(secret, body, header, 1764547200 + 301)).toBe(false);
    expect(verifyWebhook(secret, body, header, 1764547200 - 301)).toBe(false);
    expect(verifyWebhook(secret, body, undefined, 1764547200)).toBe(false);
    expect(verifyWebhook(secret, body, 't=1764547200,v1=abcd', 1764547200)).toBe(false);
  });
});

describe('alert webhook retries', () => {
  it('back off exponentially from the base, with jitter in the upper half', () => {
    expect(nextAttemptDelayMs(1, 1000, 300_000, () => 1)).toBe(1000);
    expect(nextAttemptDelayMs(1, 1000, 300_000, () => 0)).toBe(500);
    expect(nextAttemptDelayMs(4, 1000, 300_000, () => 1)).toBe(8000);
  });

  it('never stop: past any number of attempts they keep coming at the cap', () => {
    for (const attempts of [10, 20, 1000, 1e9]) {
      const d = nextAttemptDelayMs(attempts, 1000, 300_000, () => 1);
      expect(d).toBe(300_000);
    }
    expect(nextAttemptDelayMs(50, 1000, 300_000, () => 0)).toBe(150_000);
  });
});
