// Command wineshim writes bcryptprimitives.dll for Wine 8 (Debian 12),
// which lacks it. Go's Windows runtime refuses to start without that DLL's
// ProcessPrng (go.dev/issue/66060 made it the only source of randomness), so
// no Go 1.22+ program runs under that Wine. The DLL written here holds no
// code: its one export forwards ProcessPrng to advapi32's SystemFunction036
// (RtlGenRandom), which Wine has. Both take (buffer, length) in the same
// registers and return non-zero on success; lengths from Go's runtime and
// crypto/rand fit RtlGenRandom's 32 bits. Later Wine versions ship the real
// DLL; then this shim is not needed.
//
//	go run ./.ci/wineshim "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

const (
	fileAlign    = 0x200
	sectionAlign = 0x1000
	exportsRVA   = sectionAlign // the one section, right after the headers
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wineshim PATH/bcryptprimitives.dll")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], dll("bcryptprimitives.dll", "ProcessPrng", "advapi32.SystemFunction036"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "wineshim:", err)
		os.Exit(1)
	}
}

// dll is a PE32+ (x86-64) DLL whose only content is an export directory in
// which export forwards to target ("module.function").
func dll(name, export, target string) []byte {
	exports := exportDirectory(name, export, target)
	raw := align(len(exports), fileAlign)

	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }

	// DOS header: only the magic and the offset of the PE header matter.
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], 0x40)
	b.Write(dos)

	b.WriteString("PE\x00\x00")
	// COFF header.
	le(uint16(0x8664)) // machine: x86-64
	le(uint16(1))      // sections
	le(uint32(0))      // time stamp
	le(uint32(0))      // symbol table
	le(uint32(0))      // symbols
	le(uint16(240))    // optional header size (PE32+)
	le(uint16(0x2022)) // executable image, large address aware, DLL

	// Optional header (PE32+).
	le(uint16(0x20b))                                 // magic
	le([2]uint8{14, 0})                               // linker version
	le(uint32(0))                                     // size of code
	le(uint32(raw))                                   // size of initialized data
	le(uint32(0))                                     // size of uninitialized data
	le(uint32(0))                                     // entry point: none
	le(uint32(0))                                     // base of code
	le(uint64(0x180000000))                           // image base
	le(uint32(sectionAlign))                          // section alignment
	le(uint32(fileAlign))                             // file alignment
	le([6]uint16{6, 0, 0, 0, 6, 0})                   // OS, image, subsystem versions
	le(uint32(0))                                     // Win32 version
	le(uint32(exportsRVA + align(raw, sectionAlign))) // size of image
	le(uint32(fileAlign))                             // size of headers
	le(uint32(0))                                     // checksum
	le(uint16(3))                                     // subsystem: console
	le(uint16(0x0140))                                // dynamic base, NX compatible
	le([4]uint64{0x100000, 0x1000, 0x100000, 0x1000}) // stack and heap
	le(uint32(0))                                     // loader flags
	le(uint32(16))                                    // data directories
	le([2]uint32{exportsRVA, uint32(len(exports))})
	b.Write(make([]byte, 15*8))

	// The section header.
	b.WriteString(".edata\x00\x00")
	le(uint32(len(exports))) // virtual size
	le(uint32(exportsRVA))
	le(uint32(raw))        // size of raw data
	le(uint32(fileAlign))  // file offset
	le([3]uint32{})        // relocations, line numbers, their counts
	le(uint32(0x40000040)) // initialized data, readable

	b.Write(make([]byte, fileAlign-b.Len()))
	b.Write(exports)
	b.Write(make([]byte, raw-len(exports)))
	return b.Bytes()
}

// exportDirectory lays out, from exportsRVA: the directory, the address,
// name and ordinal tables of the one export, then the strings. An export
// whose address points inside the directory is a forwarder string.
func exportDirectory(name, export, target string) []byte {
	const (
		dirSize  = 40
		funcs    = exportsRVA + dirSize
		names    = funcs + 4
		ordinals = names + 4
		strs     = ordinals + 2
	)
	nameRVA := uint32(strs)
	exportRVA := nameRVA + uint32(len(name)+1)
	targetRVA := exportRVA + uint32(len(export)+1)

	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	le([2]uint32{0, 0}) // characteristics, time stamp
	le([2]uint16{0, 0}) // version
	le(nameRVA)         // the DLL's name
	le(uint32(1))       // ordinal base
	le([2]uint32{1, 1}) // functions, names
	le([3]uint32{funcs, names, ordinals})
	le(targetRVA) // the function: a forwarder
	le(exportRVA) // its name
	le(uint16(0)) // its ordinal, less the base
	for _, s := range []string{name, export, target} {
		b.WriteString(s + "\x00")
	}
	return b.Bytes()
}

func align(n, to int) int { return (n + to - 1) / to * to }
