// Package hostkeys checks server host keys against the databases the user's
// client keeps, OpenSSH's known_hosts files and PuTTY's sshhostkeys cache,
// as strictly as that client would; both implement Checker and report a
// refused key as a *KeyError.
//
// hostkeys imports nothing of this module outside hostconf/.
package hostkeys
