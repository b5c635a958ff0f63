using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Bench;

/// <summary>
/// <c>Portal.Bench seed --count N --tenant T [--sqlite PATH | --firestore-project P --firestore-emulator HOST:PORT]</c>:
/// writes N audit records of one tenant through the store's own bulk write (<see cref="IDocumentStore.SetManyAsync"/>),
/// newest at the time of the run, one a second back in time, so the HTTP benchmarks (bench/http.sh) read a
/// realistically large audit. Records have the shape the trail writes (masked logins, hashed caller ids).
/// </summary>
internal static class AuditSeeder
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = Parse(args);
        var count = int.Parse(options.GetValueOrDefault("count", "1000"), CultureInfo.InvariantCulture);
        var tenant = options.GetValueOrDefault("tenant", "demo-okta");
        var settings = new Dictionary<string, string?>();
        if (options.TryGetValue("firestore-project", out var project))
        {
            settings["Portal:Storage:Provider"] = "Firestore";
            settings["Portal:Storage:Firestore:ProjectId"] = project;
            settings["Portal:Storage:Firestore:EmulatorHost"] = options["firestore-emulator"];
        }
        else
        {
            settings["Portal:Storage:Sqlite:Path"] = options.GetValueOrDefault("sqlite", "portal.db");
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var services = new ServiceCollection().AddLogging().AddPortalStorage(configuration).BuildServiceProvider();
        var store = services.GetRequiredService<IDocumentStore>();
        var collection = CollectionPath.ForTenant(tenant, "audit");
        var now = DateTimeOffset.UtcNow;
        string[] actions = ["console.lookup", "verification.push", "verification.push.result", "verification.totp", "action.reset_password", "action.revoke_sessions"];
        AuditOutcome[] outcomes = [AuditOutcome.Succeeded, AuditOutcome.Succeeded, AuditOutcome.Succeeded, AuditOutcome.Failed, AuditOutcome.Denied];
        var clock = Stopwatch.StartNew();
        const int chunk = 5_000;
        var parallel = options.ContainsKey("firestore-project") ? 4 : 1;
        var batches = Enumerable.Range(0, (count + chunk - 1) / chunk);
        var written = 0;
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (batch, ct) =>
        {
            var writes = new List<DocumentWrite>(chunk);
            for (var i = batch * chunk; i < Math.Min(count, (batch + 1) * chunk); i++)
            {
                var at = now.AddSeconds(-i);
                var record = new AuditRecord
                {
                    Id = at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
                    TenantId = tenant,
                    At = at,
                    Action = actions[i % actions.Length],
                    Outcome = outcomes[i % outcomes.Length],
                    Agent = new AuditAgent("agent-" + (i % 40).ToString(CultureInfo.InvariantCulture), "t***@d***.example"),
                    Caller = new AuditCaller(Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i % 5_000))), "c***@d***.example"),
                    Method = "okta.push",
                    ClientNet = "203.0.113.0/24",
                    UaFamily = "Chrome",
                    RequestId = "bench-" + i.ToString(CultureInfo.InvariantCulture),
                    ExpireAt = at.AddDays(30),
                };
                writes.Add(new DocumentWrite(new DocumentKey(collection, record.Id), DocumentJson.ToDocument(record), record.ExpireAt));
            }

            await store.SetManyAsync(writes, ct);
            var total = Interlocked.Add(ref written, writes.Count);
            if (total % 100_000 < writes.Count)
            {
                Console.Error.WriteLine($"seeded {total} of {count} ({clock.Elapsed.TotalSeconds:F0} s)");
            }
        });
        Console.WriteLine($"seeded {written} audit records of tenant {tenant} in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Expected --name value, got '{args[i]}'.");
            }

            options[args[i][2..]] = args[i + 1];
        }

        return options;
    }
}
