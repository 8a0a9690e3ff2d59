import { DemoUsageError, parseDemoArgs } from './options';

describe('parseDemoArgs', () => {
  it('defaults to the normal demo on understudy_demo, port 3000 (or a free one) and the shared Unleash', () => {
    expect(parseDemoArgs([])).toEqual({
      fast: false,
      database: 'understudy_demo',
      port: null,
      unleashPort: 4242,
      suffix: null,
      rate: null,
      timeoutSeconds: null,
      stateFile: null,
      hold: false,
      model: null,
      help: false,
    });
  });

  it('reads every option, as --flag value and --flag=value', () => {
    const o = parseDemoArgs([
      '--fast',
      '--database',
      'understudy_demo_test_ab12',
      '--port=0',
      '--unleash-port',
      '4343',
      '--suffix',
      'ab12',
      '--rate',
      '12.5',
      '--timeout',
      '240',
      '--state-file',
      '/tmp/s.json',
      '--hold',
      '--model',
      'gpt-4.1-mini',
    ]);
    expect(o).toMatchObject({
      fast: true,
      database: 'understudy_demo_test_ab12',
      port: 0,
      unleashPort: 4343,
      suffix: 'ab12',
      rate: 12.5,
      timeoutSeconds: 240,
      stateFile: '/tmp/s.json',
      hold: true,
      model: 'gpt-4.1-mini',
    });
    expect(parseDemoArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--port'], /--port needs a value/],
    [['--port', '70000'], /--port must be a number from 0 to 65535/],
    [['--port', '80.5'], /whole port number/],
    [['--unleash-port', '0'], /must not be 0/],
    [['--rate', 'fast'], /--rate must be a number/],
    [['--suffix', 'Has-Caps'], /--suffix must be 1-16 lower-case letters or digits/],
    [['--database', 'demo; DROP'], /--database must be lower-case/],
    [['--database', 'understudy_unleash'], /belongs to something else/],
    [['--database', 'postgres'], /belongs to something else/],
    [['--frobnicate'], /unknown argument --frobnicate/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDemoArgs(argv)).toThrow(DemoUsageError);
    expect(() => parseDemoArgs(argv)).toThrow(message);
  });
});
