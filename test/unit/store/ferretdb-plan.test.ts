import { describe, expect, it } from 'vitest';
import { planScansTable } from '../../../src/store/mongo/index.js';

// `explain` answers of FerretDB 1.24.2 on SQLite for `find({_id: "probe"})`, as recorded from a
// stock build and from the build .ci/run makes.
const stock = {
  queryPlanner: { Plan: ['id=2 parent=0 notused=0 detail=SCAN claims_dc8edc14'] },
  filterPushdown: true,
};
const fixed = {
  queryPlanner: {
    Plan: [
      'id=3 parent=0 notused=0 detail=SEARCH claims_dc8edc14 USING INDEX claims_dc8edc14__id_ (<expr>=?)',
    ],
  },
  filterPushdown: true,
};

describe('FerretDB lookups by id', () => {
  it('a plan that scans the table is recognised, one that searches the _id index is not', () => {
    expect(planScansTable(stock)).toBe(true);
    expect(planScansTable(fixed)).toBe(false);
  });

  it('an answer without a SQLite plan (MongoDB, an error) is not taken for a scan', () => {
    expect(planScansTable(undefined)).toBe(false);
    expect(planScansTable({ queryPlanner: { winningPlan: { stage: 'IDHACK' } } })).toBe(false);
  });
});
