using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage;

namespace Portal.Audit.Tests;

/// <summary>When the store fails, the trail says so in one way the callers handle: they refuse the step.</summary>
public sealed class FailClosedTests
{
    private static AuditTrail Trail(IDocumentStore store) => new(
        store,
        new HmacCallerPseudonymizer(Options.Create(new AuditOptions { PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) })),
        new DefaultAuditRetention(Options.Create(new AuditOptions())),
        new FakeTimeProvider());

    private static readonly AuditEntry Entry = new()
    {
        TenantId = "acme",
        Action = "action.password_reset",
        Outcome = AuditOutcome.Succeeded,
        AgentSubjectId = "agent",
        AgentLogin = "agent@example.com",
    };

    [Fact]
    public async Task RecordAsync_StoreThrows_ThrowsAuditUnavailable()
    {
        var ex = await Assert.ThrowsAsync<AuditUnavailableException>(() => Trail(new BrokenStore()).RecordAsync(Entry));

        Assert.IsType<IOException>(ex.InnerException);
        Assert.Equal("The audit store is unavailable.", ex.Message);
    }

    [Fact]
    public async Task BeginAsync_StoreThrows_ThrowsAuditUnavailable() =>
        await Assert.ThrowsAsync<AuditUnavailableException>(() => Trail(new BrokenStore()).BeginAsync(Entry));

    [Fact]
    public async Task CompleteAsync_StoreThrows_ThrowsAuditUnavailable() =>
        await Assert.ThrowsAsync<AuditUnavailableException>(() => Trail(new BrokenStore()).CompleteAsync(new PendingAudit("acme", "r1"), AuditOutcome.Succeeded, null));

    [Fact]
    public async Task QueryAsync_StoreThrows_ThrowsAuditUnavailable() =>
        await Assert.ThrowsAsync<AuditUnavailableException>(() => Trail(new BrokenStore()).QueryAsync("acme", new AuditQuery()));

    [Fact]
    public async Task RecordAsync_IdAlreadyTaken_ThrowsAuditUnavailable()
    {
        var ex = await Assert.ThrowsAsync<AuditUnavailableException>(() => Trail(new RefusingStore()).RecordAsync(Entry));
        Assert.Equal("The audit record could not be written: its id was already taken.", ex.Message);
        Assert.Null(ex.InnerException);
    }

    [Fact]
    public async Task RecordAsync_PendingOutcome_IsRefused()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Trail(new RefusingStore()).RecordAsync(Entry with { Outcome = AuditOutcome.Pending }));
        Assert.StartsWith("A finished record needs an outcome; use BeginAsync for a pending one.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NullArguments_RefusedBeforeTheStore()
    {
        var trail = Trail(new BrokenStore());
        Assert.Equal("entry", (await Assert.ThrowsAsync<ArgumentNullException>(() => trail.RecordAsync(null!))).ParamName);
        Assert.Equal("entry", (await Assert.ThrowsAsync<ArgumentNullException>(() => trail.BeginAsync(null!))).ParamName);
        Assert.Equal("pending", (await Assert.ThrowsAsync<ArgumentNullException>(() => trail.CompleteAsync(null!, AuditOutcome.Succeeded, null))).ParamName);
        Assert.Equal("query", (await Assert.ThrowsAsync<ArgumentNullException>(() => trail.QueryAsync("acme", null!))).ParamName);
    }

    [Fact]
    public async Task CancelledByTheCaller_IsACancellation_NotAnOutage()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Trail(new CancellingStore()).RecordAsync(Entry, cancelled.Token));

        // The same exception without the caller's cancellation is the store's failure.
        await Assert.ThrowsAsync<AuditUnavailableException>(() => Trail(new CancellingStore()).RecordAsync(Entry, CancellationToken.None));
    }

    private class BrokenStore : IDocumentStore
    {
        public virtual Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => throw new IOException("disk full");

        public Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default) => throw new IOException("disk full");

        public Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default) => throw new IOException("disk full");

        public Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default) => throw new IOException("disk full");

        public async IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            throw new IOException("disk full");
#pragma warning disable CS0162 // An iterator needs a yield to be one.
            yield break;
#pragma warning restore CS0162
        }

        public Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => throw new IOException("disk full");

        public Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default) => throw new IOException("disk full");

        public Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default) => throw new IOException("disk full");
    }

    private sealed class CancellingStore : BrokenStore
    {
        public override Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) =>
            throw new OperationCanceledException("the store gave up");
    }

    private sealed class RefusingStore : BrokenStore
    {
        public override Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => Task.FromResult(false);
    }
}
