// Starts @20minutes/s3rver (an S3 implementation in Node that checks SigV4 signatures; keys
// S3RVER/S3RVER) for interoperability tests: node s3rver.js MODULE_DIR DATA_DIR BUCKET...
// Prints "listening PORT" once the buckets exist. Objects are PUT by the test (unsigned).
const path = require('path');
const [moduleDir, directory, ...buckets] = process.argv.slice(2);
const S3rver = require(path.join(moduleDir, 'node_modules', '@20minutes', 's3rver'));
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
server.run().then(({ port }) => console.log(`listening ${port}`), (e) => { console.error(e); process.exit(1); });
