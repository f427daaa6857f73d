import { describe, expect, it } from 'vitest';
import { describeExecution } from '../../../src/cli/execution-view.js';

describe('describeExecution (squall run, squall execution get)', () => {
  const base = { id: 'e1', action: { ref: 'csv.parse' }, status: 'succeeded', start_timestamp: 't0' };

  it('keeps a parameter of several lines indented under parameters, as a YAML block', () => {
    const text = describeExecution({ ...base, parameters: { data: 'a,b\n1,2', delimiter: ',' } });
    expect(text).toContain(
      ['parameters: ', '  data: |-', '    a,b', '    1,2', '  delimiter: ,', 'status:'].join('\n'),
    );
  });

  it('says None when there are no parameters', () => {
    expect(describeExecution({ ...base, parameters: {} })).toContain('parameters: None\n');
  });
});
