// The checks `kubedask bench dataframe` compares between engines: kubedask's side must build the
// digest bench/dataframe_peer.py builds (the literal below is what its grouped_check gives for
// the same groups), whatever order the groups come in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDifference, groupedCheck } from '../../bench/dataframe-queries.js';

test('groupedCheck gives the Python peer\'s digest, in any group order', () => {
  const expected = { rows: 3, total: 10, digest: '157a7d6ef0541158' };
  assert.deepEqual(groupedCheck(['LAX', 'ATL', 'NA'], [3, 5, 2]), expected);
  assert.deepEqual(groupedCheck(['NA', 'LAX', 'ATL'], [2n, 3n, 5n]), expected);
});

test('checkDifference names a mismatch and is silent on a match', () => {
  const ours = groupedCheck(['a', 'b'], [1, 2]);
  assert.equal(checkDifference(ours, groupedCheck(['b', 'a'], [2, 1])), undefined);
  const diff = checkDifference(ours, groupedCheck(['a', 'b'], [2, 1]));
  assert.match(diff ?? '', /^kubedask .*"total":3.*, peer .*"total":3/);
  assert.notEqual(diff, undefined);
});
