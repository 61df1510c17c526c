// Strict standard base64, as Go's base64.StdEncoding decodes it: padding required, newlines ignored, any other
// stray character rejected. Node's decoder silently skips bad input, which would store corrupted values.

export function decodeStdBase64(text: string): Buffer {
  const clean = text.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  if (bad !== -1) throw illegalAt(bad);
  const pad = clean.indexOf('=');
  if (pad !== -1 && (!/^={1,2}$/.test(clean.slice(pad)) || clean.length % 4 !== 0)) throw illegalAt(pad);
  if (clean.length % 4 !== 0) throw illegalAt(clean.length - (clean.length % 4));
  return Buffer.from(clean, 'base64');
}

function illegalAt(offset: number): Error {
  return new Error(`illegal base64 data at input byte ${offset}`);
}
