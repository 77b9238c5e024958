/**
 * The key pair of the local platform's S3 server: s3rver knows one account, `S3RVER` /
 * `S3RVER`, which the platform hands to the functions as S3_ACCESS_KEY / S3_SECRET_KEY. Not a
 * credential of anything outside this machine. Kept apart from s3-server.ts so that code
 * reading it never pulls s3rver (a development dependency) into a function bundle.
 */
export const LOCAL_S3_CREDENTIALS = { accessKey: 'S3RVER', secretKey: 'S3RVER' } as const;
