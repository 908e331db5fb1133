package store

// Per-item value limits of the keyrings go-keyring drives. Linux's Secret
// Service has none that matter (1 MB values round-trip), so there the whole
// value always goes in one item and a read is one call.
const (
	// WindowsMaxItemSize is Credential Manager's limit on a credential blob;
	// go-keyring refuses longer passwords with ErrSetDataTooBig.
	WindowsMaxItemSize = 2560

	// DarwinMaxItemSize keeps go-keyring's macOS Set under its limit. That
	// Set pipes one line to `security -i`,
	//
	//	add-generic-password -U -s SERVICE -a USER -w PASSWORD\n
	//
	// where PASSWORD is "go-keyring-base64:" + base64(value), each argument
	// shell-quoted, and refuses the line when it exceeds 4,096 bytes.
	// For a 2,000-byte value:
	//
	//	password: 18 + 4*ceil(2000/3) = 18 + 2,668 = 2,686, quoted 2,688
	//	fixed:    "add-generic-password -U -s " 27 + " -a " 4 + " -w " 4 + "\n" 1 = 36
	//	service:  "ms365auth" 9 (quoted at most 11)
	//	total without the user: 2,688 + 36 + 11 = 2,735
	//
	// leaving 1,361 bytes for the quoted user. The longest user is a chunk of
	// a client secret, PROFILE + ":client-secret" (14) + "#" + 16-hex
	// generation + "#" + index (at most 4 digits) = PROFILE + 36, quoted +2,
	// and profile names are capped at maxProfileLen (128) here, so the line
	// stays under 2,905 bytes: over 1,100 bytes of headroom.
	DarwinMaxItemSize = 2000
)

// maxItemSize is the per-item value limit NewKeyring uses on goos; 0 means
// no limit.
func maxItemSize(goos string) int {
	switch goos {
	case "windows":
		return WindowsMaxItemSize
	case "darwin", "ios":
		return DarwinMaxItemSize
	default:
		return 0
	}
}
