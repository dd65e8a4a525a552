import type { PGlite, Transaction } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/**
 * Kysely dialect over PGlite. PGlite has a single session, so a transaction must be run through
 * `PGlite.transaction()`: sending BEGIN as a plain query would make every concurrent query of the
 * process part of that transaction (and roll back with it).
 */
class PGliteConnection implements DatabaseConnection {
  tx: Transaction | null = null;
  finish?: (commit: boolean) => void;
  done?: Promise<unknown>;

  constructor(private readonly pg: PGlite) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await (this.tx ?? this.pg).query<R>(query.sql, query.parameters as unknown[]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on PGlite');
  }
}

class PGliteDriver implements Driver {
  constructor(private readonly pg: PGlite) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.pg);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as PGliteConnection;
    await new Promise<void>((started, failed) => {
      conn.done = this.pg
        .transaction(async (tx) => {
          conn.tx = tx;
          started();
          const commit = await new Promise<boolean>((resolve) => (conn.finish = resolve));
          if (!commit) await tx.rollback();
        })
        .catch((error: unknown) => {
          failed(error instanceof Error ? error : new Error('PGlite transaction failed', { cause: error }));
          throw error;
        });
    });
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection as PGliteConnection, true);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection as PGliteConnection, false);
  }

  private async end(conn: PGliteConnection, commit: boolean): Promise<void> {
    conn.finish?.(commit);
    try {
      await conn.done;
    } finally {
      conn.tx = null;
      conn.finish = undefined;
      conn.done = undefined;
    }
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    // The owner of the PGlite instance closes it (it must flush to disk once, at the very end).
  }
}

export class PGliteDialect implements Dialect {
  constructor(private readonly pg: PGlite) {}
  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pg);
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}
