/** Kept in step with package.json by a test. */
export const HOOKLINE_VERSION = '0.1.0';
