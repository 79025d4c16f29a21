/** Records as MongoDB documents (`id` as `_id`), and the insert and update every Mongo registry part shares. */
import type { Collection, UpdateFilter } from 'mongodb';

export type Doc<T extends { id: string }> = Omit<T, 'id'> & { _id: string };

export function toDoc<T extends { id: string }>(record: T): Doc<T> {
  const { id, ...rest } = record;
  return { _id: id, ...rest } as Doc<T>;
}

export function fromDoc<T extends { id: string }>(doc: object): T {
  const { _id, ...rest } = doc as { _id: string };
  return { id: _id, ...rest } as unknown as T;
}

/** Inserts `doc`; a duplicate key is explained as "`what` already exists". */
export async function insertOrExplain<T extends { _id: string }>(collection: Collection<T>, doc: T, what: string): Promise<void> {
  try {
    await collection.insertOne(doc as Parameters<Collection<T>['insertOne']>[0]);
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new Error(`${what} already exists (or its key hash is already used).`, { cause: err });
    throw err;
  }
}

/** `$set`s the defined fields of `patch` (never the ID or createdAt) and returns the record after. */
export async function updateOne<T extends { id: string }>(collection: Collection<Doc<T>>, id: string, patch: object, what: string): Promise<T> {
  const set: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined && k !== 'id' && k !== '_id' && k !== 'createdAt') set[k] = v;
  }
  const filter = { _id: id } as Parameters<Collection<Doc<T>>['findOne']>[0];
  if (Object.keys(set).length === 0) {
    const d = await collection.findOne(filter);
    if (!d) throw new Error(`No ${what} with ID ${id}.`);
    return fromDoc<T>(d);
  }
  const d = await collection.findOneAndUpdate(filter, { $set: set } as UpdateFilter<Doc<T>>, { returnDocument: 'after' });
  if (!d) throw new Error(`No ${what} with ID ${id}.`);
  return fromDoc<T>(d);
}
