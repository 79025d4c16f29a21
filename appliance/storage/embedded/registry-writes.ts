/** What the SQLite registry parts share when they write: patch semantics, and the message of a duplicate ID. */

/** A patch with `{ name: undefined }` leaves the name alone rather than erasing it. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Turns SQLite's primary-key or unique violation into "`what` already exists"; rethrows anything else. */
export function rethrowDuplicate(err: unknown, what: string): never {
  if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
    throw new Error(`${what} already exists. Choose another ID, or update the existing one.`, { cause: err });
  }
  throw err;
}
