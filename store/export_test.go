package store

// OpenAt opens a database at an older schema version, for migration tests.
var OpenAt = openAt
