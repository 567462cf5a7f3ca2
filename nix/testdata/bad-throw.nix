{
  v = throw "job hello_world: cluster must be set";
}
