import { describe, expect, it } from 'vitest';
import { splitStatements } from './script.js';

describe('migration script splitting', () => {
  it('splits at line-ending semicolons but keeps $$ bodies whole', () => {
    const script = `
create table a (x int);
-- a comment;
create function f() returns trigger language plpgsql as $$
begin
  delete from a;
  return old;
end $$;
create index a_x on a (x);
`;
    const statements = splitStatements(script);
    expect(statements).toHaveLength(3);
    expect(statements[1]).toMatch(/^create function f\(\)[\s\S]*delete from a;\n {2}return old;\nend \$\$$/);
    expect(statements[2]).toBe('create index a_x on a (x)');
  });
});
