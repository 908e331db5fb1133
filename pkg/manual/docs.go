package manual

// DocsURL is where the documents of docs/ are for everyone, whatever
// installed ms365auth: a message that sends people to a document names it
// under this URL, since a relative path like docs/recipes.md exists only in
// a checkout or an archive (the .deb and .rpm put the documents in
// InstalledDocs).
const DocsURL = "https://github.com/ms365auth/ms365auth/blob/main/docs/"

// InstalledDocs is where the .deb and .rpm install the documents of docs/,
// beside the README as in the repository, so that its links work there.
const InstalledDocs = "/usr/share/doc/ms365auth/docs/"
