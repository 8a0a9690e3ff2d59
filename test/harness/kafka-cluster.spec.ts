import { parseControlReply, parseLauncherLine } from './kafka-cluster';

describe('parseLauncherLine', () => {
  it('reads the bootstrap servers', () => {
    expect(parseLauncherLine('BOOTSTRAP 127.0.0.1:3001,127.0.0.1:3002\n')).toEqual({
      kind: 'bootstrap',
      brokers: ['127.0.0.1:3001', '127.0.0.1:3002'],
    });
  });

  it('reads the control address', () => {
    expect(parseLauncherLine('CONTROL 127.0.0.1:45000')).toEqual({ kind: 'control', address: '127.0.0.1:45000' });
  });

  it('recognises READY', () => {
    expect(parseLauncherLine('READY')).toEqual({ kind: 'ready' });
  });

  it('ignores lines that are not part of the handshake', () => {
    expect(parseLauncherLine('PONG')).toBeNull();
    expect(parseLauncherLine('')).toBeNull();
    expect(parseLauncherLine('READY now')).toBeNull();
  });

  it.each(['BOOTSTRAP', 'BOOTSTRAP 127.0.0.1', 'BOOTSTRAP a:1,b', 'BOOTSTRAP a:1 b:2', 'CONTROL', 'CONTROL 45000', 'CONTROL h:p'])(
    'rejects the malformed line %p',
    (line) => {
      expect(() => parseLauncherLine(line)).toThrow(/malformed launcher line/);
    },
  );
});

describe('parseControlReply', () => {
  it('treats PONG and a bare OK as success without a value', () => {
    expect(parseControlReply('PONG')).toEqual({ ok: true, value: '' });
    expect(parseControlReply('OK\r')).toEqual({ ok: true, value: '' });
  });

  it('returns the text after OK', () => {
    expect(parseControlReply('OK 127.0.0.1:1,127.0.0.1:2')).toEqual({ ok: true, value: '127.0.0.1:1,127.0.0.1:2' });
    expect(parseControlReply('OK exists')).toEqual({ ok: true, value: 'exists' });
  });

  it('returns the reason of an ERR', () => {
    expect(parseControlReply("ERR unknown command 'foo' (try 'help')")).toEqual({
      ok: false,
      error: "unknown command 'foo' (try 'help')",
    });
    expect(parseControlReply('ERR')).toEqual({ ok: false, error: 'unspecified error' });
  });

  it('fails on anything else', () => {
    expect(parseControlReply('OKAY')).toEqual({ ok: false, error: "unexpected reply 'OKAY'" });
  });
});
