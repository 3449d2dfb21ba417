using AgentSecurity.Hosting;

await SiloHost.Build(args).RunAsync();
