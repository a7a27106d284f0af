// Range partitioning for sort: which output partition each row belongs to, given boundary rows.
import type pl from 'nodejs-polars';

export function rangeBuckets(_df: pl.DataFrame, _boundaries: pl.DataFrame, _by: string[], _descending: boolean[]): pl.Series {
  throw new Error('range partitioning is not supported yet');
}
