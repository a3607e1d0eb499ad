//! Requests as values: method, path, query and form parts; rendered as URLs and curl commands.
