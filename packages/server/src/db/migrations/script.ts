import { sql, type Kysely } from 'kysely';

/**
 * Runs a migration script statement by statement: PGlite's extended protocol takes one statement
 * per query. A statement ends with a semicolon at the end of a line, outside `$$` bodies.
 */
export async function runScript(db: Kysely<unknown>, script: string): Promise<void> {
  for (const statement of splitStatements(script)) await sql.raw(statement).execute(db);
}

export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let inBody = false;
  for (const line of script.split('\n')) {
    current += `${line}\n`;
    inBody = (line.split('$$').length - 1) % 2 === 1 ? !inBody : inBody;
    if (!inBody && /;\s*$/.test(line)) {
      const text = current.trim().replace(/;$/, '').trim();
      if (text && !/^(--[^\n]*\n?)*$/.test(text)) statements.push(text);
      current = '';
    }
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}
