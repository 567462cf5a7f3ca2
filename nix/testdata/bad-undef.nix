let a = 1; in {
  v = b + a;
}
