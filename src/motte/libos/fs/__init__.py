"""The sandbox's file system: path resolution in its root, /proc, stat."""
