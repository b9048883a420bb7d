// The identity module's public face: accounts, passwords, second factors, sessions.
export { hashPassword, verifyPassword, needsRehash } from './passwords.js';
export { base32Encode } from './base32.js';
