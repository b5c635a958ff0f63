using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;
using Portal.Web.Verification;
using Xunit.Abstractions;

namespace Portal.Web.Tests.Storage;

/// <summary>
/// How many Firestore reads, writes and deletes each agent journey costs, counted at the store contract with
/// Firestore's billing rules (a query is a read per document returned, at least one; an update is a read plus its
/// write or delete). docs/PERFORMANCE.md prices these per 10 000 verifications; this test keeps the counts honest
/// and proves the push poll throttle: a poll within the interval reads and never writes.
/// </summary>
public sealed class StoreOperationCountTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Tier3 = "tier3.agent@demo.example";
    private const string Auditor = "auditor@demo.example";
    private const string Alice = "alice.caller@demo.example";

    private readonly Counts _counts = new();
    private PortalTestHost? _host;

    private PortalTestHost Host => _host!;

    public async Task InitializeAsync()
    {
        _host = new PortalTestHost
        {
            ConfigureServices = services =>
            {
                var original = services.Last(d => d.ServiceType == typeof(IDocumentStore));
                services.Remove(original);
                services.AddSingleton<IDocumentStore>(sp => new CountingStore(
                    original.ImplementationInstance as IDocumentStore ?? (IDocumentStore)original.ImplementationFactory!(sp), _counts));
            },
        };
        await _host.InitializeAsync();
    }

    public Task DisposeAsync() => _host?.DisposeAsync() ?? Task.CompletedTask;

    [Fact]
    public async Task Journeys_CostTheCountedOperations()
    {
        // Warm-up: the key ring, the tenant catalog and the first session are created once per instance, not per journey.
        var warm = new ConsoleDriver(Host, await Host.SignInAsync(Tier3));
        await warm.LookupAsync(Alice);

        var table = new List<string>();
        async Task<Counts.Snapshot> Measure(string journey, Func<Task> run)
        {
            var before = _counts.Take();
            await run();
            var cost = _counts.Take() - before;
            table.Add($"| {journey} | {cost.Reads} | {cost.Writes} | {cost.Deletes} |");
            return cost;
        }

        HttpClient? browser = null;
        var signIn = await Measure("agent sign-in", async () => browser = await Host.SignInAsync(Tier3));
        var agent = new ConsoleDriver(Host, browser!);
        await Measure("console page", () => agent.GetPageAsync("/console"));
        string? callerPage = null;
        var lookup = await Measure("caller look-up", async () => callerPage = await agent.LookupAsync(Alice));
        string? pending = null;
        await Measure("push: send", async () => pending = await agent.StartPushAsync(callerPage!));
        var poll = await Measure("push: page + poll that asks the IdP (waiting)", () => agent.PollAsync(pending!));
        var throttled = await Measure("push: page + poll within 2 s of the last (served from the store)", () => agent.PollAsync(pending!));
        var push = Assert.Single(Host.Emulator.State.PendingPushes(Alice));
        Host.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer);
        Host.Clock.Advance(VerificationStore.PushPollInterval);
        string? next = null;
        await Measure("push: page + poll that finds it approved (opens the verification)", async () => next = (await agent.PollAsync(pending!)).Next);
        var action = await Measure("action (revoke sessions)", async () => Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(next!))).StatusCode));

        var auditor = new ConsoleDriver(Host, await Host.SignInAsync(Auditor));
        var store = Host.Factory.Services.GetRequiredService<IDocumentStore>();
        await SeedAuditAsync(store, 1_000);
        var auditPage = await Measure("audit page (50 records)", () => auditor.GetPageAsync("/audit"));
        var token = PortalTestHost.FormToken(await auditor.GetPageAsync("/audit"));
        var export = await Measure("export of 1 000+ records (6 pages of 200)", async () =>
        {
            var response = await PortalTestHost.PostFormAsync(auditor.Browser, "/audit/export", token, ("format", "ndjson"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
        });

        output.WriteLine("| journey | reads | writes | deletes |\n|---|---|---|---|\n" + string.Join("\n", table));

        Assert.True(signIn.Writes >= 1 && lookup.Writes >= 1 && action.Writes >= 1, "sign-in, look-up and action each write at least their audit record");
        // Every poll counts against the agent's request window (a read and a write in a transaction, so the limit holds
        // across instances); beyond that a poll within 2 s of the last writes nothing.
        Assert.Equal(1, throttled.Writes);
        // Both polls read the page and the pending document; only the one that asks the IdP claims the interval (a read and a write in a transaction).
        Assert.Equal(poll.Reads - 1, throttled.Reads);
        Assert.Equal(2, poll.Writes);
        Assert.InRange(auditPage.Reads, 51, 70);
        Assert.InRange(export.Reads, 1_000, 1_100);
    }

    private static async Task SeedAuditAsync(IDocumentStore store, int count)
    {
        var now = DateTimeOffset.UtcNow;
        var writes = Enumerable.Range(0, count).Select(i =>
        {
            var at = now.AddSeconds(-i - 60);
            var record = new AuditRecord
            {
                Id = at.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + "-" + i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
                TenantId = PortalTestHost.TenantId,
                At = at,
                Action = "caller.lookup",
                Outcome = AuditOutcome.Succeeded,
                Agent = new AuditAgent("seeded", "s***@d***.example"),
                ExpireAt = at.AddDays(30),
            };
            return new DocumentWrite(new DocumentKey(CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"), record.Id), DocumentJson.ToDocument(record), record.ExpireAt);
        }).ToList();
        await store.SetManyAsync(writes);
    }

    private sealed class Counts
    {
        private long _reads;
        private long _writes;
        private long _deletes;

        public void Read(long n = 1) => Interlocked.Add(ref _reads, n);

        public void Write(long n = 1) => Interlocked.Add(ref _writes, n);

        public void Delete() => Interlocked.Increment(ref _deletes);

        public Snapshot Take() => new(Interlocked.Read(ref _reads), Interlocked.Read(ref _writes), Interlocked.Read(ref _deletes));

        public sealed record Snapshot(long Reads, long Writes, long Deletes)
        {
            public static Snapshot operator -(Snapshot a, Snapshot b) => new(a.Reads - b.Reads, a.Writes - b.Writes, a.Deletes - b.Deletes);
        }
    }

    private sealed class CountingStore(IDocumentStore inner, Counts counts) : IDocumentStore
    {
        public Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default)
        {
            counts.Read();
            return inner.GetAsync(key, cancellationToken);
        }

        public Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default)
        {
            counts.Write();
            return inner.CreateAsync(key, data, expireAt, cancellationToken);
        }

        public Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default)
        {
            counts.Write();
            return inner.SetAsync(key, data, expireAt, cancellationToken);
        }

        public Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default) =>
            inner.SetManyAsync(writes, cancellationToken); // Seeding only: not part of any journey.

        public async Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default)
        {
            var kind = DocumentMutationKind.None;
            var result = await inner.UpdateAsync(key, current =>
            {
                var mutation = mutate(current);
                kind = mutation.Kind;
                return mutation;
            }, cancellationToken);
            counts.Read();
            if (kind == DocumentMutationKind.Write)
            {
                counts.Write();
            }
            else if (kind == DocumentMutationKind.Delete)
            {
                counts.Delete();
            }

            return result;
        }

        public Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default)
        {
            counts.Delete();
            return inner.DeleteAsync(key, cancellationToken);
        }

        public async IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var returned = 0;
            await foreach (var document in inner.QueryAsync(query, cancellationToken))
            {
                returned++;
                yield return document;
            }

            counts.Read(Math.Max(1, returned));
        }

        public Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            inner.PurgeExpiredAsync(collection, now, cancellationToken);
    }
}
