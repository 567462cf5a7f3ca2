# A job written the nix-aurora way: evaluation gives the job attribute set
# (Aurora's --read-json shape), command lines interpolate packages, and
# nix-aurora's own init_sandbox copies its sandbox with cp -Lavr.
{ pkgs ? import ./pkgs.nix { } }:
{
  hello = {
    cluster = "devcluster";
    role = "www-data";
    environment = "devel";
    name = "hello_world";
    service = true;
    instances = 2;
    update_config = { batch_size = 2; watch_secs = 10; };
    task = {
      name = "hello_world";
      resources = { cpu = 1; ram = 1048576; disk = 8388608; };
      processes = [
        { name = "init_sandbox"; cmdline = "cp -Lavr /nix/store/psv7wgmj5ivc4iinjk7bkza2qwskcq3c-aurora-sandbox-devcluster-www-data-devel-hello_world/* ."; }
        { name = "hello_world"; cmdline = "${pkgs.hello}/bin/hello && ${pkgs.lib.greeter}/bin/greeter --port {{thermos.ports[http]}}"; }
        { name = "side"; cmdline = "${pkgs.tools}/bin/greet"; }
      ];
      constraints = [
        { order = [ "init_sandbox" "hello_world" ]; }
        { order = [ "init_sandbox" "side" ]; }
      ];
    };
  };
}
