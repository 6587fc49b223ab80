"""The Textual interface. Screens gather input, call a service in a worker
thread and render the result; they never touch a database driver."""
