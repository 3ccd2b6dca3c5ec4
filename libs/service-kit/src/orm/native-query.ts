import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';

/**
 * Runs SQL with server-side bind parameters ($1, $2, ...) on the EntityManager's transaction (or the pool when
 * there is none). `em.execute` inlines its `?` parameters as literals; this passes them to the driver, so arrays
 * arrive as PostgreSQL arrays (for `unnest($1::text[])`), Buffers as bytea, and a '?' in SQL is just a character.
 */
export async function nativeQuery<T>(em: EntityManager, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  const executor: Kysely<unknown> | Transaction<unknown> =
    em.getTransactionContext<Transaction<unknown>>() ?? em.getConnection().getClient<unknown>();
  const result = await executor.executeQuery<T>(CompiledQuery.raw(sql, [...params]));
  return [...result.rows];
}

/**
 * Bind parameters gathered while one statement is built from parts: `add` keeps a value and answers its placeholder
 * ($n, with an optional cast), so parts written apart number their parameters without knowing of each other.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}
