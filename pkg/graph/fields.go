package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Field is one -f (Raw) or -F (typed) key=value.
type Field struct {
	Key, Value string
	Typed      bool // -F: true, false, null and numbers are JSON; @file reads a file
}

// ParseField splits key=value.
func ParseField(s string, typed bool) (Field, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		flag := "-f"
		if typed {
			flag = "-F"
		}
		return Field{}, fmt.Errorf("invalid field %q: give %s key=value", s, flag)
	}
	return Field{Key: k, Value: v, Typed: typed}, nil
}

// value is the field's JSON value. stdin serves @-.
func (f Field) value(stdin io.Reader) (any, error) {
	if !f.Typed {
		return f.Value, nil
	}
	switch v := f.Value; {
	case v == "true":
		return true, nil
	case v == "false":
		return false, nil
	case v == "null":
		return nil, nil
	case strings.HasPrefix(v, "@"):
		var b []byte
		var err error
		if v == "@-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(v[1:])
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Key, err)
		}
		return string(b), nil
	default:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n, nil
		}
		return v, nil
	}
}

// Query adds fields to a URL's query (for GET and HEAD).
func Query(u *url.URL, fields []Field, stdin io.Reader) error {
	q := u.Query()
	for _, f := range fields {
		v, err := f.value(stdin)
		if err != nil {
			return err
		}
		switch v := v.(type) {
		case string:
			q.Add(f.Key, v)
		default:
			b, _ := json.Marshal(v)
			q.Add(f.Key, string(b))
		}
	}
	u.RawQuery = q.Encode()
	return nil
}

// Body builds a JSON object from fields. Keys nest with brackets:
// message[subject]=Hi sets {"message":{"subject":"Hi"}}, a trailing []
// appends to an array (tags[]=a tags[]=b), and [] before a name appends an
// object, a new one whenever the last already has that name:
// to[][address]=a to[][address]=b is [{"address":"a"},{"address":"b"}].
func Body(fields []Field, stdin io.Reader) ([]byte, error) {
	root := map[string]any{}
	for _, f := range fields {
		v, err := f.value(stdin)
		if err != nil {
			return nil, err
		}
		path, err := keyPath(f.Key)
		if err != nil {
			return nil, err
		}
		if err := set(root, path, v); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Key, err)
		}
	}
	return json.Marshal(root)
}

func lastObject(arr []any) (map[string]any, bool) {
	if len(arr) == 0 {
		return nil, false
	}
	m, ok := arr[len(arr)-1].(map[string]any)
	return m, ok
}

// has says whether obj holds a value at path.
func has(obj map[string]any, path []string) bool {
	v, ok := obj[path[0]]
	if !ok || len(path) == 1 || path[1] == "" {
		return ok
	}
	child, isObj := v.(map[string]any)
	return !isObj || has(child, path[1:])
}

// keyPath splits a[b][c] into a, b, c ("" for []).
func keyPath(key string) ([]string, error) {
	name, rest, _ := strings.Cut(key, "[")
	path := []string{name}
	if rest == "" && !strings.Contains(key, "[") {
		return path, nil
	}
	rest = "[" + rest
	for rest != "" {
		end := strings.Index(rest, "]")
		if rest[0] != '[' || end < 0 {
			return nil, fmt.Errorf("invalid field key %q: nest with brackets, as in message[subject]", key)
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return path, nil
}

func set(obj map[string]any, path []string, v any) error {
	key := path[0]
	if len(path) == 1 {
		// a[b]=1 then a=2 would silently drop a[b], as a=2 then a[b]=1
		// is refused: either order is an error.
		switch obj[key].(type) {
		case map[string]any:
			return fmt.Errorf("%s is already an object, not a value", key)
		case []any:
			return fmt.Errorf("%s is already a list, not a value", key)
		}
		obj[key] = v
		return nil
	}
	if path[1] == "" { // key[]: append a value, or key[][name]: an object
		arr, isArr := obj[key].([]any)
		if _, taken := obj[key]; taken && !isArr {
			return fmt.Errorf("%s is already a value, not a list", key)
		}
		if len(path) == 2 {
			obj[key] = append(arr, v)
			return nil
		}
		// A new object starts when the last one already has this field.
		last, _ := lastObject(arr)
		if last == nil || has(last, path[2:]) {
			last = map[string]any{}
			arr = append(arr, last)
		}
		obj[key] = arr
		return set(last, path[2:], v)
	}
	child, ok := obj[key].(map[string]any)
	if !ok {
		if _, taken := obj[key]; taken {
			return fmt.Errorf("%s is already a value, not an object", key)
		}
		child = map[string]any{}
		obj[key] = child
	}
	return set(child, path[1:], v)
}
