"""One module per on-disk format: read it, check it (a DataError naming the file, the key, what
was expected and found), write it. Formats import only research.data.errors, layouts and
sequences; the loaders (research.data.loaders) turn what they read into a `Dataset`."""
