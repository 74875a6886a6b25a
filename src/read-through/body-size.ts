/**
 * Whether an encoded body is within a cache's size limit (`maxValueBytes`; undefined: no limit). UTF-8 takes at
 * most 3 bytes per UTF-16 unit, so most bodies are decided without counting bytes.
 */
export function fitsIn(body: string, maxBytes: number | undefined): boolean {
  if (maxBytes === undefined || body.length * 3 <= maxBytes) return true;
  return body.length <= maxBytes && Buffer.byteLength(body, "utf8") <= maxBytes;
}
