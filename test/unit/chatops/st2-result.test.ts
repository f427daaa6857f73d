import { describe, expect, it } from 'vitest';
import { st2DefaultResultMessage, st2HumanTime } from '../../../src/chatops/st2-result.js';

/**
 * st2's default chat result message for an execution whose alias has no result.format. Each
 * `printed` is what st2's chatops.format_execution_result printed for the execution (its
 * default.j2 rendered by Jinja2 3.1 with st2's settings, st2 c2eaf56b3), blank lines and all.
 * `execution` gives what differs from a succeeded core.local run (`runner`: its name).
 */
const CASES: Array<{ name: string; execution: Record<string, unknown>; printed: string }> = [
  {
    name: 'a succeeded shell command: its stdout, multi-line, under its key; a 0 return code left out',
    execution: {
      elapsed_seconds: 2.5,
      result: { failed: false, stdout: 'line one\nline two\n', return_code: 0, stderr: '', succeeded: true },
    },
    printed:
      '\nAction core.local completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\nTook 2s to complete.\n\nresult :\n--------\nstdout :       \n  line one\nline two\n\n',
  },
  {
    name: "a failed shell command: its stderr and return code, in the result's order",
    execution: {
      status: 'failed',
      elapsed_seconds: 3.5,
      result: {
        failed: true,
        stdout: '',
        return_code: 2,
        stderr: "ls: cannot access '/nope': No such file or directory",
        succeeded: false,
      },
    },
    printed:
      "\nAction core.local completed.\nstatus : failed\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\nTook 4s to complete.\n\nresult :\n--------\nreturn_code : 2\nstderr : ls: cannot access '/nope': No such file or directory\n\n",
  },
  {
    name: "a multi-line stderr keeps the template's indentation quirk; a fraction of a second reads in μs",
    execution: {
      status: 'failed',
      elapsed_seconds: 0.25,
      result: { failed: true, return_code: 1, stderr: 'a\n  b\nc', succeeded: false, error: 'boom' },
    },
    printed:
      '\nAction core.local completed.\nstatus : failed\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\nTook 0.25μs to complete.\n\nresult :\n--------\nreturn_code : 1\nstderr :       \n  a\n  b\nc\nerror : boom\n\n',
  },
  {
    name: 'a dict result (a runner the template does not name): every key, Python values, nested mappings',
    execution: {
      action: { ref: 'mypack.info' },
      runner: 'nodejs',
      elapsed_seconds: 65,
      result: {
        name: 'web-1',
        up: true,
        load: 0.75,
        count: 3,
        zero: 0,
        none: null,
        tags: ['a', 'b', 1, true, null],
        nested: { k: 'v', deeper: { x: [1, 2] }, empty: {} },
        empty: '',
        multi: 'x\ny',
      },
    },
    printed:
      "\nAction mypack.info completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\nTook 1m5s to complete.\n\nresult :\n--------\nname : web-1\nup : True\nload : 0.75\ncount : 3\nzero : 0\nnone : None\ntags : ['a', 'b', 1, True, None]\nnested : \n  k : v\n  deeper : \n    x : [1, 2]\n  empty : \nempty : \nmulti :       \n  x\ny\n\n",
  },
  {
    name: 'a workflow that succeeded: its output',
    execution: {
      action: { ref: 'examples.wf' },
      runner: 'orquesta',
      elapsed_seconds: 3700,
      result: { output: { msg: 'done', items: [1, 2] } },
    },
    printed:
      '\nAction examples.wf completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\nTook 1h1m40s to complete.\n\nresult :\n--------\noutput : \n  msg : done\n  items : [1, 2]\n\n',
  },
  {
    name: 'a workflow that failed: its errors as Python prints the list, and output None',
    execution: {
      runner: 'orquesta',
      status: 'failed',
      elapsed_seconds: 90061,
      result: {
        errors: [
          {
            type: 'error',
            message: 'Execution failed. See result for details.',
            task_id: 't1',
            result: { stderr: 'bad', return_code: 1 },
          },
        ],
        output: null,
      },
    },
    printed:
      "\nAction core.local completed.\nstatus : failed\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\nTook 1d1h1m1s to complete.\n\nresult :\n--------\nerrors : [{'type': 'error', 'message': 'Execution failed. See result for details.', 'task_id': 't1', 'result': {'stderr': 'bad', 'return_code': 1}}]\noutput : None\n\n",
  },
  {
    name: 'a remote command: per host, stdout/stderr/return_code/error that are set',
    execution: {
      runner: 'remote-shell-cmd',
      status: 'failed',
      result: {
        h1: {
          stdout: '',
          stderr: 'no',
          return_code: 255,
          error: 'Permission denied',
          succeeded: false,
          failed: true,
        },
        h2: { stdout: 'ok', return_code: 0 },
      },
    },
    printed:
      '\nAction core.local completed.\nstatus : failed\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\n\nresult :\n--------\nh1 : \n  stderr : no\n  return_code : 255\n  error : Permission denied\n\nh2 : \n  stdout : ok\n\n',
  },
  {
    name: 'an HTTP request: every field, the first one indented',
    execution: {
      runner: 'http-request',
      result: { status_code: 200, body: { ok: true, list: [] }, parsed: true, headers: { A: 'b' } },
    },
    printed:
      '\nAction core.local completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\n\nresult :\n--------\n  status_code : 200\nbody : \n  ok : True\n  list : []\nparsed : True\nheaders : \n  A : b\n\n',
  },
  {
    name: 'a Python action: result, stdout, stderr and exit code that are set',
    execution: {
      runner: 'python-script',
      result: { result: [1, 'two'], exit_code: 1, stderr: 'Traceback...\n  File x\nValueError: y' },
    },
    printed:
      "\nAction core.local completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\n\nresult :\n--------\nresult : [1, 'two']\nexit_code : 1\nstderr :       \n  Traceback...\n  File x\nValueError: y\n\n",
  },
  {
    name: 'a result that is not a mapping: printed as is',
    execution: { runner: 'noop', result: 'just text' },
    printed:
      '\nAction core.local completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\nweb_url: https://squall/#/history/5f0000000000000000000001/general\n\n\nresult :\n--------\njust text\n',
  },
  {
    name: 'no web URL, no elapsed time, an empty result: only the header',
    execution: { runner: 'noop', web_url: null, result: {} },
    printed:
      '\nAction core.local completed.\nstatus : succeeded\nexecution: 5f0000000000000000000001\n\n\n\n',
  },
];

const ID = '5f0000000000000000000001';

describe("st2's default chat result message", () => {
  for (const { name, execution, printed } of CASES)
    it(name, () => {
      const { runner, ...rest } = execution;
      const full = {
        id: ID,
        action: { ref: 'core.local' },
        runner: { name: runner ?? 'local-shell-cmd' },
        status: 'succeeded',
        web_url: `https://squall/#/history/${ID}/general`,
        ...rest,
      };
      expect(st2DefaultResultMessage(full)).toBe(printed);
    });

  it('says how long it took as st2 does (Python rounding, day of the month)', () => {
    expect(st2HumanTime(2.5)).toBe('2s');
    expect(st2HumanTime(3.5)).toBe('4s');
    expect(st2HumanTime(65)).toBe('1m5s');
    expect(st2HumanTime(3700)).toBe('1h1m40s');
    expect(st2HumanTime(90061)).toBe('1d1h1m1s');
    expect(st2HumanTime(0.25)).toBe('0.25\u03BCs');
  });
});
