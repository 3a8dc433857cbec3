// s3rver ships no type declarations; the tests only construct it and hand it to startS3rver.
declare module 's3rver' {
  const S3rver: new (options: Record<string, unknown>) => {
    run(): Promise<import('node:net').AddressInfo>;
    close(): Promise<void>;
  };
  export default S3rver;
}
