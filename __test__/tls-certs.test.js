'use strict';
// Certificates people already have (X.509 v1, CN only, self-signed as its own ca) and every
// kind of bad input: unusable material fails creation cleanly with an error naming the option
// and the path; a bad server certificate fails verification with Node's code.
const { F, FIX, read, tracker, mutualServer, asClient, startServer, connectClient, until, buildCio } = require('./tls-helpers');

const track = tracker();
afterEach(() => track.closeAll());

describe('certificates Node accepts', () => {
  test('legacy X.509 v1 CN-only certificates work for mutual TLS', async () => {
    const { rec, port } = await startServer(track, { key: F('legacy-server.key'), cert: F('legacy-server.crt'), ca: F('legacy-ca.crt'), requestCert: true });
    const out = await connectClient(track, port, Object.assign({ ca: F('legacy-ca.crt'), servername: 'localhost' }, asClient('legacy-client')));
    expect(out.errors).toEqual([]);
    expect(out.secure).toEqual({ authorized: true, authorizationError: null });
    expect(out.data).toBe('hi');
    expect(rec.secure).toEqual([{ authorized: true, authorizationError: null, peerCN: 'legacy-client' }]);
  });

  test('a self-signed server certificate is trusted when the client lists it as ca', async () => {
    const { port } = await startServer(track, { key: F('self-signed.key'), cert: F('self-signed.crt') });
    const out = await connectClient(track, port, { ca: F('self-signed.crt'), servername: 'localhost' });
    expect(out.errors).toEqual([]);
    expect(out.secure).toEqual({ authorized: true, authorizationError: null });
    expect(out.data).toBe('hi');
  });

  test('a self-signed server certificate without ca is DEPTH_ZERO_SELF_SIGNED_CERT', async () => {
    const { port } = await startServer(track, { key: F('self-signed.key'), cert: F('self-signed.crt') });
    const out = await connectClient(track, port, { ca: F('ca.crt'), servername: 'localhost' });
    expect(out.errors.map((e) => e.code)).toEqual(['DEPTH_ZERO_SELF_SIGNED_CERT']);
    expect(out.secure).toBeUndefined();
  });

  test('a CN-only server certificate passes for host localhost (checked against the CN)', async () => {
    const { port } = await startServer(track, { key: F('legacy-server.key'), cert: F('legacy-server.crt') });
    const client = buildCio().client({ port, host: 'localhost', ca: F('legacy-ca.crt') });
    track(client);
    const out = { errors: [] };
    client.on('error', (e) => out.errors.push(e.code));
    client.resume();
    await new Promise((resolve) => client.on('close', resolve));
    expect(out.errors).toEqual([]);
    expect(client.authorized).toBe(true);
  });

  test.each([
    ['a wrong servername', { host: '127.0.0.1', servername: 'example.com' }, /Host: example\.com\. is not cert's CN: localhost/],
    ['an IP host with no servername', { host: '127.0.0.1' }, /IP: 127\.0\.0\.1 is not in the cert's list/],
  ])('a CN-only server certificate with %s is ERR_TLS_CERT_ALTNAME_INVALID, like Node', async (_what, target, message) => {
    const { rec, port } = await startServer(track, { key: F('legacy-server.key'), cert: F('legacy-server.crt') });
    const out = await connectClient(track, port, Object.assign({ ca: F('legacy-ca.crt') }, target));
    expect(out.errors.map((e) => e.code)).toEqual(['ERR_TLS_CERT_ALTNAME_INVALID']);
    expect(out.errors[0].message).toMatch(message);
    expect(out.secure).toBeUndefined();
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.secure).toEqual([]);
  });
});

describe('a bad server certificate fails the client with Node\'s code', () => {
  test.each([
    ['an expired certificate', { cert: F('expired.crt') }, { servername: 'localhost' }, 'CERT_HAS_EXPIRED'],
    ['a certificate that is not yet valid', { cert: F('not-yet-valid.crt') }, { servername: 'localhost' }, 'CERT_NOT_YET_VALID'],
    ['a server from the wrong CA', { key: F('wrong-ca-server.key'), cert: F('wrong-ca-server.crt') }, { servername: 'localhost' }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['a client trusting the wrong CA', {}, { servername: 'localhost', ca: F('wrong-ca.crt') }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['a wrong host name', {}, { servername: 'example.com' }, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ])('%s', async (_what, serverMore, clientMore, code) => {
    const { rec, port } = await startServer(track, Object.assign({ key: F('server.key'), cert: F('server.crt') }, serverMore));
    const out = await connectClient(track, port, Object.assign({ ca: F('ca.crt') }, clientMore), { send: 'never delivered' });
    expect(out.errors.map((e) => e.code)).toEqual([code]);
    expect(out.secure).toBeUndefined();
    await until(() => rec.tlsClientErrors.length > 0);
    expect(rec.secure).toEqual([]);
    expect(rec.data).toEqual([]);
  });

  test('rejectUnauthorized: false on the client proceeds with authorizationError set', async () => {
    const { port } = await startServer(track, { key: F('server.key'), cert: F('expired.crt') });
    const out = await connectClient(track, port, { ca: F('ca.crt'), servername: 'localhost', rejectUnauthorized: false });
    expect(out.errors).toEqual([]);
    expect(out.secure).toEqual({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED' });
    expect(out.data).toBe('hi');
  });
});

// Each bad input: [what, option, fixture path, expected code, message pattern]
const BAD = [
  ['a missing file', 'key', F('does-not-exist.key'), 'ENOENT', /^Unable to read 'key' from: .*does-not-exist\.key/],
  ['a directory', 'cert', FIX, 'EISDIR', /^Unable to read 'cert' from: .*fixtures/],
  ['an empty file', 'ca', F('empty.pem'), 'ERR_CIO_EMPTY_FILE', /^Unable to read 'ca' from: .*empty\.pem/],
  ['a file with no PEM block', 'cert', F('no-pem.txt'), 'ERR_CIO_TLS_MATERIAL', /^Invalid 'cert' from: .*no-pem\.txt: no PEM block/],
  ['garbage inside a PEM block', 'key', F('garbage.pem'), 'ERR_CIO_TLS_MATERIAL', /^Invalid 'key' from: .*garbage\.pem: garbage inside a PEM block/],
  ['a certificate where a key is expected', 'key', F('server.crt'), 'ERR_CIO_TLS_MATERIAL', /^Invalid 'key' from: .*server\.crt: expected a private key but found a certificate/],
  ['an encrypted key', 'key', F('encrypted.key'), 'ERR_CIO_TLS_MATERIAL', /^Invalid 'key' from: .*encrypted\.key: encrypted private keys are not supported/],
  ['a key that does not match its certificate', 'key', F('alice.key'), 'ERR_CIO_KEY_MISMATCH', /^'key' \(.*alice\.key\) does not match the certificate in 'cert' \(.*server\.crt\)/],
];
const withBad = (option, path) => Object.assign({ key: F('server.key'), cert: F('server.crt'), ca: F('ca.crt') }, { [option]: path });

describe('bad material: a clear error naming the option and the path, no crash', () => {
  test.each(BAD)('the module builder returns {error, reason} for %s', (_what, option, path, code, message) => {
    const result = buildCio(withBad(option, path));
    expect(result.error).toMatch(message);
    expect(typeof result.reason.message).toBe('string'); // an Error (fs errors come from another realm under jest)
    expect(result.reason.code).toBe(code);
  });

  test.each(BAD)('server() returns a failure result for %s', (_what, option, path, code, message) => {
    const result = buildCio().server(withBad(option, path));
    expect(result.result).toBe(false);
    expect(result.failed.reason).toMatch(message);
    expect(result.failed.error.code).toBe(code);
  });

  test.each(BAD)('client() returns a failure result for %s', (_what, option, path, code, message) => {
    const result = buildCio().client(Object.assign(withBad(option, path), { port: 9, host: '127.0.0.1' }));
    expect(result.result).toBe(false);
    expect(result.failed.reason).toMatch(message);
    expect(result.failed.error.code).toBe(code);
  });

  test('aliases name the option the user wrote in the Node spelling (private → key)', () => {
    const result = buildCio({ private: F('garbage.pem'), public: F('server.crt') });
    expect(result.error).toMatch(/^Invalid 'key' from: .*garbage\.pem/);
  });

  test('PEM text given directly is named as such when unusable', () => {
    const result = buildCio().server({ key: read('server.key'), cert: '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n' });
    expect(result.result).toBe(false);
    expect(result.failed.error.code).toBe('ERR_CIO_TLS_MATERIAL');
    expect(result.failed.reason).toMatch(/^Invalid 'cert'/);
  });

  test('a TLS server without a cert is a clear failure', () => {
    const result = buildCio().server({ key: F('server.key'), requestCert: true });
    expect(result.result).toBe(false);
    expect(result.failed.reason).toMatch(/'key' .* was given without a 'cert'|needs both 'key' and 'cert'/);
  });

  test('an unsupported Node tls option is ERR_CIO_UNSUPPORTED_OPTION naming it', () => {
    const result = buildCio().server(mutualServer({ passphrase: 'x' }));
    expect(result.result).toBe(false);
    expect(result.failed.error.code).toBe('ERR_CIO_UNSUPPORTED_OPTION');
    expect(result.failed.reason).toMatch(/'passphrase'/);
  });
});
