export {};
export * from './fault-injection.js';
