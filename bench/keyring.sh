# Sourced by the bench scripts inside dbus-run-session: starts an unlocked
# gnome-keyring on the private session bus and waits for its Secret Service.
printf %s bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do sleep 0.05; done
