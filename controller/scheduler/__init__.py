"""The scheduler: a queue of unbound pods, filter and score plugins (one small module each), Binding."""
