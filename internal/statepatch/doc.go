// Package statepatch encodes one byte string as a patch against another:
// runs copied from the base and literal bytes in between.
//
// A source's cursor state is megabytes (some 70 bytes a user), of which an
// incremental read changes a few records. Rewriting the whole blob each run
// made SQLite write and checkpoint every page of it; a patch of the changed
// records is a few kilobytes. The store keeps a base and the patches made
// since, and rebuilds the state from them when it is read.
//
// A patch names the base it applies to and the result it gives by length
// and xxHash64, so that a patch is never applied to the wrong base and a
// damaged one is detected rather than decoded into a wrong state.
//
// Layout: the magic byte 'p', the layout (1), the base's length (uvarint)
// and sum (8 bytes, little endian), the result's length and sum; then ops
// to the end, each a uvarint tag: odd, a copy of tag>>1 bytes from the
// base at the offset (uvarint) that follows; even, tag>>1 literal bytes
// that follow.
package statepatch
