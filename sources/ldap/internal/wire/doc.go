// Package wire is the LDAPv3 client the LDAP source reads a directory
// with: a simple bind, paged searches that stream their entries, StartTLS,
// unbind. Nothing else of LDAP is spoken.
//
// Contract:
//   - A Conn does one operation at a time; it is not safe for concurrent
//     use. Each operation takes its deadline from ctx, and cancelling ctx
//     interrupts a blocked read or write.
//   - Search hands each entry to its callback as it is decoded. An Entry
//     and every byte slice in it are views into the connection's reused
//     read buffer, valid only during the callback: the caller copies what
//     it keeps. This is the reason for the package: go-ldap's reader
//     builds a packet tree and copies every value per entry (about 33 KB
//     of garbage each), which made reading 100k users five times slower
//     than ldapsearch; decoded in place it is about as fast
//     (scripts/bench-ldap.sh).
//   - A result code other than success is a *goldap.Error with the code,
//     the server's diagnostic, the matched DN and any referral URLs;
//     search continuation references come back in PageResult.References,
//     never followed; whether the SearchResultDone carried the
//     paged-results control is PageResult.Paged, so the caller can tell a
//     server that ignored it.
//   - A response message is refused from its announced length when that is
//     over Options.MaxMessageBytes (a *MessageTooLargeError), before any of
//     it is buffered. A response that does not decode wraps ErrMalformed;
//     a notice of disconnection, a dropped connection or a timeout is an
//     error too. After any of these, and after a callback error ends a
//     search, the connection is out of step: every later call fails, and
//     Close only closes the socket.
//   - Requests are encoded with go-asn1-ber and go-ldap (filter compiler,
//     paging control); an unparseable filter fails before anything is sent.
package wire
