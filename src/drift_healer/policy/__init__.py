"""Pure decisions over plain data: risk of a change set, pre-flight, names, poll delays."""
