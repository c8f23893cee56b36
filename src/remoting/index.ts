export * from './codes.js';
export * from './command.js';
export * from './codec.js';
export * from './connection.js';
export * from './server.js';
export * from './client.js';
export * from './errors.js';
export * from './header.js';
