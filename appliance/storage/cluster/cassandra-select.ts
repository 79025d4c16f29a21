/** Paged selects of the Cassandra RollupStore. */
import type cassandra from 'cassandra-driver';
import type { Row } from './cassandra-rows.ts';

/** Every row of a select, page by page. */
export async function selectAll(client: cassandra.Client, query: string, params: unknown[]): Promise<Row[]> {
  const out: Row[] = [];
  let pageState: string | undefined;
  do {
    const r = await client.execute(query, params, { prepare: true, fetchSize: 5000, pageState });
    out.push(...r.rows);
    pageState = r.pageState ?? undefined;
  } while (pageState);
  return out;
}
