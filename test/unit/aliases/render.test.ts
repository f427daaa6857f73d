import { describe, expect, it } from 'vitest';
import { defaultAckText, formatExecutionResult, type ExecutionLike } from '../../../aliases/index.js';

const id = '65f0a1b2c3d4e5f601234567';

function execution(runner: string, result: unknown, extra: Partial<ExecutionLike> = {}): ExecutionLike {
  return {
    id,
    action: { ref: 'core.local', runner_type: runner },
    status: 'succeeded',
    result,
    elapsed_seconds: 2,
    ...extra,
  };
}

describe('defaultAckText', () => {
  it('names the action and the execution id, the same words every time for one id', () => {
    const text = defaultAckText(id, 'core.local');
    expect(text).toContain('core.local');
    expect(text).toContain(id);
    expect(defaultAckText(id, 'core.local')).toBe(text);
  });

  it('appends the web UI link like hubot does', () => {
    expect(defaultAckText(id, 'core.local', 'https://squall.example.com/')).toMatch(
      new RegExp(`\\(details available at https://squall\\.example\\.com/#/history/${id}/general\\)$`),
    );
  });
});

describe('formatExecutionResult', () => {
  it('local shell: header, duration, and only the non-empty stdout/stderr/return_code/error', () => {
    const out = formatExecutionResult(
      execution('local-shell-cmd', {
        stdout: 'Mon Jan 1\n',
        stderr: '',
        return_code: 0,
        succeeded: true,
        failed: false,
      }),
    );
    expect(out).toEqual({
      text: [
        'Action core.local completed.',
        'status: succeeded',
        `execution: ${id}`,
        'Took 2 s',
        'result:',
        '--------',
        'stdout: Mon Jan 1',
      ].join('\n'),
      truncated: false,
      fullText: [
        'Action core.local completed.',
        'status: succeeded',
        `execution: ${id}`,
        'Took 2 s',
        'result:',
        '--------',
        'stdout: Mon Jan 1',
      ].join('\n'),
    });
  });

  it('a failed local command shows stderr, the return code and multi-line output indented', () => {
    const out = formatExecutionResult(
      execution(
        'local-shell-script',
        { stdout: 'line 1\nline 2', stderr: 'boom', return_code: 2 },
        { status: 'failed' },
      ),
    );
    expect(out.text).toContain('status: failed');
    expect(out.text).toContain(
      ['stdout:', '  line 1', '  line 2', 'stderr: boom', 'return_code: 2'].join('\n'),
    );
  });

  it('remote shell: one block per host', () => {
    const out = formatExecutionResult(
      execution('remote-shell-cmd', {
        web1: { stdout: 'ok', stderr: '', return_code: 0, succeeded: true },
        web2: { stdout: '', stderr: 'denied', return_code: 1, error: 'exit 1', succeeded: false },
      }),
    );
    expect(out.text.split('result:\n--------\n')[1]).toBe(
      ['web1:', '  stdout: ok', 'web2:', '  stderr: denied', '  return_code: 1', '  error: exit 1'].join(
        '\n',
      ),
    );
  });

  it('python: result, stdout, stderr and exit code; nested results indented', () => {
    const out = formatExecutionResult(
      execution('python-script', {
        result: { count: 3, items: ['a'] },
        stdout: 'log',
        stderr: '',
        exit_code: 0,
      }),
    );
    expect(out.text.split('--------\n')[1]).toBe(
      ['result:', '  count: 3', '  items: ["a"]', 'stdout: log'].join('\n'),
    );
  });

  it('http: status code and body', () => {
    const out = formatExecutionResult(
      execution('http-request', {
        status_code: 404,
        body: { error: 'nope' },
        parsed: true,
        headers: { a: 'b' },
      }),
    );
    expect(out.text.split('--------\n')[1]).toBe(['status_code: 404', 'body:', '  error: nope'].join('\n'));
  });

  it('orquesta: output and errors with their task', () => {
    const out = formatExecutionResult(
      execution(
        'orquesta',
        {
          output: { deployed: 'web' },
          errors: [{ type: 'error', task_id: 'deploy', message: 'Execution failed.' }],
        },
        { status: 'failed', runner: { name: 'orquesta' } },
      ),
    );
    expect(out.text.split('--------\n')[1]).toBe(
      ['output:', '  deployed: web', 'errors:', '  - [deploy] Execution failed.'].join('\n'),
    );
  });

  it('computes the duration from timestamps and shows the web URL', () => {
    const out = formatExecutionResult(
      execution(
        'noop',
        {},
        {
          elapsed_seconds: undefined,
          start_timestamp: '2024-01-01T00:00:00.000Z',
          end_timestamp: '2024-01-01T00:00:01.500Z',
        },
      ),
      { webUrl: 'https://ui.example' },
    );
    expect(out.text).toBe(
      [
        'Action core.local completed.',
        'status: succeeded',
        `execution: ${id}`,
        `web_url: https://ui.example/#/history/${id}/general`,
        'Took 1.5 s',
      ].join('\n'),
    );
  });

  it('cuts long text to maxLength, says how much is hidden and keeps the full text', () => {
    const stdout = 'x'.repeat(2000);
    const out = formatExecutionResult(execution('local-shell-cmd', { stdout }), { maxLength: 300 });
    expect(out.truncated).toBe(true);
    expect(out.text.length).toBeLessThanOrEqual(300);
    expect(out.text).toMatch(/\n… \(\d+ more characters\)$/);
    expect(out.fullText).toContain(stdout);
    const hidden = Number(/(\d+) more characters/.exec(out.text)?.[1]);
    expect(out.fullText.startsWith(out.text.slice(0, out.text.indexOf('\n…')))).toBe(true);
    expect(out.fullText.length - hidden).toBe(out.text.indexOf('\n…'));
    expect(formatExecutionResult(execution('local-shell-cmd', { stdout }), { maxLength: 0 }).truncated).toBe(
      false,
    );
  });
});
