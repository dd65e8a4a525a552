export * from './ast.js';
export * from './parse.js';
