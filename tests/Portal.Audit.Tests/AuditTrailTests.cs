using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage;

namespace Portal.Audit.Tests;

/// <summary>The audit trail over the real SQLite store, wired as the portal wires it.</summary>
public sealed class AuditTrailTests : IDisposable
{
    private const string Tenant = "acme";
    private const string AgentEmail = "agent.smith@helpdesk.example";
    private const string CallerEmail = "john.doe@example.com";
    private const string CallerId = "00u9zyxwvutsrq";
    private const string ClientAddress = "203.0.113.77";
    private const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

    private static readonly DateTimeOffset Start = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-audit-tests-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly ServiceProvider _services;

    public AuditTrailTests()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Sqlite:Path"] = DatabasePath })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddSingleton<IAuditRetention>(new PerTenantRetention());
        services.AddPortalStorage(configuration);
        services.AddPortalAudit();
        services.Configure<AuditOptions>(o => o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    private string DatabasePath => Path.Combine(_directory, "data", "portal.db");

    private IAuditTrail Trail => _services.GetRequiredService<IAuditTrail>();

    private IDocumentStore Store => _services.GetRequiredService<IDocumentStore>();

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS temp cleaner.
        }
    }

    private static AuditEntry Entry(string tenant = Tenant, string action = "verification.push.start", AuditOutcome outcome = AuditOutcome.Succeeded) => new()
    {
        TenantId = tenant,
        Action = action,
        Outcome = outcome,
        AgentSubjectId = "agent-sub-1",
        AgentLogin = AgentEmail,
        CallerId = CallerId,
        CallerLogin = CallerEmail,
        Method = "okta.push",
        TicketRef = "INC-42 <b>",
        RequestId = "req-1",
        TraceId = "trace-1",
        ClientAddress = ClientAddress,
        UserAgent = UserAgent,
    };

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", false)]
    [InlineData("jane.doe@example.com.............................................", false)]
    public async Task RecordAsync_PseudonymGivenAsSuch_StoredOnlyInItsForm(string idHash, bool kept)
    {
        var record = await Trail.RecordAsync(Entry() with { CallerId = null, CallerIdHash = idHash });

        Assert.Equal(kept ? idHash : "", record.Caller!.IdHash);
        Assert.Equal("j***@e***.com", record.Caller.MaskedLogin);
    }

    [Fact]
    public async Task RecordAsync_PseudonymOnly_PutsTheRecordOnTheCallersTimeline_TheIdWins()
    {
        var hash = _services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(Tenant, "00u-other");

        var onlyHash = await Trail.RecordAsync(Entry() with { CallerId = null, CallerLogin = null, CallerIdHash = hash });
        var both = await Trail.RecordAsync(Entry() with { CallerIdHash = hash });

        Assert.Equal(hash, onlyHash.Caller!.IdHash);
        Assert.Equal(_services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(Tenant, CallerId), both.Caller!.IdHash);
    }

    [Fact]
    public async Task RecordAsync_Entry_StoresMaskedHashedTruncatedRecord()
    {
        var record = await Trail.RecordAsync(Entry());

        var stored = DocumentJson.FromDocument<AuditRecord>((await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "audit"), record.Id)))!.Data);
        Assert.Equal(record, stored);
        Assert.Equal(Start, stored.At);
        Assert.Equal(AuditOutcome.Succeeded, stored.Outcome);
        Assert.Equal("a***@h***.example", stored.Agent.MaskedLogin);
        Assert.Equal("agent-sub-1", stored.Agent.SubjectId);
        Assert.Equal("j***@e***.com", stored.Caller!.MaskedLogin);
        Assert.Equal(_services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(Tenant, CallerId), stored.Caller.IdHash);
        Assert.Equal("203.0.113.0/24", stored.ClientNet);
        Assert.Equal("Firefox", stored.UaFamily);
        Assert.Equal("INC-42b", stored.TicketRef);
        Assert.Equal("okta.push", stored.Method);
        Assert.Equal("req-1", stored.RequestId);
    }

    [Fact]
    public async Task RecordOnceAsync_SameOccurrenceTwice_WritesOneRecord_DatedWhenItHappened_KeyNotStored()
    {
        var happened = Start.AddMinutes(-7);
        const string Key = "Okta:5b1e6a5e-0c61-11ef-a1b5-3fa4a5f0c2d1";

        var first = await Trail.RecordOnceAsync(Entry(action: "outside.password_reset", outcome: AuditOutcome.Alarm), Key, happened);
        var second = await Trail.RecordOnceAsync(Entry(action: "outside.password_reset", outcome: AuditOutcome.Alarm), Key, happened);
        var other = await Trail.RecordOnceAsync(Entry(action: "outside.password_reset", outcome: AuditOutcome.Alarm), Key + "x", happened);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.NotNull(other);
        Assert.NotEqual(first.Id, other.Id);
        Assert.Equal(happened, first.At);
        Assert.Equal(happened.AddDays(30), first.ExpireAt);
        Assert.StartsWith(happened.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + "-", first.Id, StringComparison.Ordinal);
        var page = await Trail.QueryAsync(Tenant, new AuditQuery { Action = "outside.password_reset" });
        Assert.Equal(2, page.Records.Count);
        var raw = (await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "audit"), first.Id)))!.Data.ToJsonString();
        Assert.DoesNotContain("5b1e6a5e", raw, StringComparison.Ordinal);
        Assert.Equal("j***@e***.com", first.Caller!.MaskedLogin);
    }

    [Fact]
    public async Task RecordOnceAsync_NoEntry_NoKey_OrAPendingOutcome_RefusedWritingNothing()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => Trail.RecordOnceAsync(null!, "Okta:e2", Start));
        await Assert.ThrowsAsync<ArgumentException>(() => Trail.RecordOnceAsync(Entry(), "", Start));
        var pending = await Assert.ThrowsAsync<ArgumentException>(() => Trail.RecordOnceAsync(Entry(outcome: AuditOutcome.Pending), "Okta:e2", Start));

        Assert.Equal("entry", pending.ParamName);
        Assert.Contains("outcome", pending.Message, StringComparison.Ordinal);
        Assert.Empty((await Trail.QueryAsync(Tenant, new AuditQuery())).Records);
    }

    [Fact]
    public async Task RecordOnceAsync_SameEventIdInAnotherTenant_IsItsOwnRecord()
    {
        var one = await Trail.RecordOnceAsync(Entry(), "Okta:e1", Start);
        var two = await Trail.RecordOnceAsync(Entry(tenant: "globex"), "Okta:e1", Start);

        Assert.NotNull(one);
        Assert.NotNull(two);
    }

    [Fact]
    public async Task RecordAsync_RawJson_HoldsNoRawIdentityData()
    {
        await Trail.RecordAsync(Entry());
        var pending = await Trail.BeginAsync(Entry(action: "action.password_reset"));
        await Trail.CompleteAsync(pending, AuditOutcome.Failed, "idp_unavailable");

        var rows = ReadRawRows();

        Assert.Equal(2, rows.Count);
        foreach (var json in rows)
        {
            Assert.DoesNotContain(CallerEmail, json, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(AgentEmail, json, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("john", json, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("smith", json, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(CallerId, json, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(ClientAddress, json, StringComparison.Ordinal);
            Assert.DoesNotContain("113.77", json, StringComparison.Ordinal);
            Assert.DoesNotContain("Gecko", json, StringComparison.Ordinal);
            Assert.DoesNotContain("Linux", json, StringComparison.Ordinal);
            Assert.DoesNotContain("<b>", json, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}", json);
        }
    }

    [Fact]
    public async Task BeginAsync_ThenComplete_RecordsOutcomeReasonAndCompletion()
    {
        var pending = await Trail.BeginAsync(Entry(action: "action.password_reset"));
        var whilePending = await Read(pending);
        _clock.Advance(TimeSpan.FromSeconds(3));

        await Trail.CompleteAsync(pending, AuditOutcome.Succeeded, "ok");

        var completed = await Read(pending);
        Assert.Equal(Tenant, pending.TenantId);
        Assert.Equal(AuditOutcome.Pending, whilePending.Outcome);
        Assert.Null(whilePending.CompletedAt);
        Assert.Equal(AuditOutcome.Succeeded, completed.Outcome);
        Assert.Equal("ok", completed.Reason);
        Assert.Equal(Start.AddSeconds(3), completed.CompletedAt);
        Assert.Equal(whilePending.At, completed.At);
        Assert.Equal(whilePending.ExpireAt, completed.ExpireAt);
    }

    [Fact]
    public async Task BeginAsync_EntrySaysSucceeded_IsStillStoredPending()
    {
        var pending = await Trail.BeginAsync(Entry(outcome: AuditOutcome.Succeeded));

        Assert.Equal(AuditOutcome.Pending, (await Read(pending)).Outcome);
    }

    [Fact]
    public async Task CompleteAsync_Twice_KeepsTheFirstOutcome()
    {
        var pending = await Trail.BeginAsync(Entry());
        await Trail.CompleteAsync(pending, AuditOutcome.Failed, "wrong_number");
        _clock.Advance(TimeSpan.FromSeconds(1));

        await Trail.CompleteAsync(pending, AuditOutcome.Succeeded, "ok");

        var record = await Read(pending);
        Assert.Equal(AuditOutcome.Failed, record.Outcome);
        Assert.Equal("wrong_number", record.Reason);
        Assert.Equal(Start, record.CompletedAt);
    }

    [Fact]
    public async Task CompleteAsync_FinishedRecord_IsLeftAsItIs()
    {
        var record = await Trail.RecordAsync(Entry(outcome: AuditOutcome.Denied));

        await Trail.CompleteAsync(new PendingAudit(Tenant, record.Id), AuditOutcome.Succeeded, null);

        Assert.Equal(AuditOutcome.Denied, (await Read(new PendingAudit(Tenant, record.Id))).Outcome);
    }

    [Fact]
    public async Task CompleteAsync_OtherTenantsRecord_IsNotTouched()
    {
        var pending = await Trail.BeginAsync(Entry());

        await Trail.CompleteAsync(new PendingAudit("globex", pending.RecordId), AuditOutcome.Succeeded, null);

        Assert.Equal(AuditOutcome.Pending, (await Read(pending)).Outcome);
        Assert.Null(await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant("globex", "audit"), pending.RecordId)));
    }

    [Fact]
    public async Task RecordAsync_Retention_SetsExpiryAndRecordVanishesAfterIt()
    {
        var acme = await Trail.RecordAsync(Entry());
        var shortLived = await Trail.RecordAsync(Entry(tenant: "brief"));

        Assert.Equal(Start.AddDays(30), acme.ExpireAt);
        Assert.Equal(Start.AddDays(7), shortLived.ExpireAt);
        var stored = await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant("brief", "audit"), shortLived.Id));
        Assert.Equal(Start.AddDays(7), stored!.ExpireAt);

        _clock.Advance(TimeSpan.FromDays(7));
        Assert.Empty((await Trail.QueryAsync("brief", new AuditQuery())).Records);
        Assert.Single((await Trail.QueryAsync(Tenant, new AuditQuery())).Records);
    }

    [Fact]
    public async Task RecordAsync_RetentionOutOfBounds_IsClamped()
    {
        var tooLong = await Trail.RecordAsync(Entry(tenant: "forever"));

        Assert.Equal(Start.AddDays(AuditOptions.MaxRetentionDays), tooLong.ExpireAt);
    }

    [Fact]
    public async Task RecordAsync_RetentionUnderADay_IsClampedToOneDay()
    {
        var brief = await Trail.RecordAsync(Entry(tenant: "none"));

        Assert.Equal(Start.AddDays(AuditOptions.MinRetentionDays), brief.ExpireAt);
        Assert.Equal(Start.AddDays(1), brief.ExpireAt);
    }

    [Fact]
    public async Task RecordAsync_FreeText_CutAt200Characters_EmptyTextAbsent()
    {
        var exactly = new string('x', 200);
        var record = await Trail.RecordAsync(Entry() with
        {
            Action = new string('a', 201),
            Reason = new string('r', 201),
            AgentSubjectId = new string('s', 201),
            Method = new string('m', 201),
            RequestId = exactly,
            TraceId = new string('t', 250),
        });

        Assert.Equal(new string('a', 200), record.Action);
        Assert.Equal(new string('r', 200), record.Reason);
        Assert.Equal(new string('s', 200), record.Agent.SubjectId);
        Assert.Equal(new string('m', 200), record.Method);
        Assert.Equal(exactly, record.RequestId);
        Assert.Equal(new string('t', 200), record.TraceId);

        var bare = await Trail.RecordAsync(Entry() with { Action = "", Reason = "", AgentSubjectId = "", Method = "", RequestId = null, TraceId = "", UserAgent = " " });
        Assert.Equal("unknown", bare.Action);
        Assert.Null(bare.Reason);
        Assert.Equal("", bare.Agent.SubjectId);
        Assert.Null(bare.Method);
        Assert.Null(bare.RequestId);
        Assert.Null(bare.TraceId);
        Assert.Null(bare.UaFamily);
    }

    [Fact]
    public async Task RecordAsync_HasACallerWhenEitherTheIdOrTheLoginIsKnown()
    {
        var loginOnly = await Trail.RecordAsync(Entry() with { CallerId = null });
        Assert.Equal(new AuditCaller("", "j***@e***.com"), loginOnly.Caller);

        var idOnly = await Trail.RecordAsync(Entry() with { CallerLogin = "" });
        Assert.Equal(new AuditCaller(_services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(Tenant, CallerId), "***"), idOnly.Caller);

        Assert.Null((await Trail.RecordAsync(Entry() with { CallerId = "", CallerLogin = null })).Caller);
    }

    [Fact]
    public async Task RecordAndComplete_PendingIsNotAFinalOutcome()
    {
        var entry = Entry(outcome: AuditOutcome.Pending);
        Assert.Equal("entry", (await Assert.ThrowsAsync<ArgumentException>(() => Trail.RecordAsync(entry))).ParamName);
        var pending = await Trail.BeginAsync(Entry());
        Assert.Equal("outcome", (await Assert.ThrowsAsync<ArgumentException>(() => Trail.CompleteAsync(pending, AuditOutcome.Pending, null))).ParamName);
        Assert.Equal(AuditOutcome.Pending, (await Read(pending)).Outcome);
    }

    [Fact]
    public async Task CompleteAsync_WithoutReason_KeepsTheEntrysReason_ALongOneIsCut()
    {
        var kept = await Trail.BeginAsync(Entry() with { Reason = "started" });
        await Trail.CompleteAsync(kept, AuditOutcome.Succeeded, null);
        Assert.Equal("started", (await Read(kept)).Reason);

        var replaced = await Trail.BeginAsync(Entry() with { Reason = "started" });
        await Trail.CompleteAsync(replaced, AuditOutcome.Succeeded, "done");
        Assert.Equal("done", (await Read(replaced)).Reason);

        var cut = await Trail.BeginAsync(Entry());
        await Trail.CompleteAsync(cut, AuditOutcome.Failed, new string('c', 201));
        Assert.Equal(new string('c', 200), (await Read(cut)).Reason);
    }

    [Fact]
    public async Task CompleteAsync_UnknownRecord_WritesNothing()
    {
        var id = AuditTrail.NewId(Start);
        await Trail.CompleteAsync(new PendingAudit(Tenant, id), AuditOutcome.Succeeded, "ok");
        Assert.Null(await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "audit"), id)));
    }

    [Fact]
    public async Task RecordAsync_ManyInOneTick_GetsUniqueTimeOrderedIds()
    {
        var first = await Trail.RecordAsync(Entry());
        var same = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Trail.RecordAsync(Entry())));
        _clock.Advance(TimeSpan.FromTicks(1));
        var later = await Trail.RecordAsync(Entry());

        Assert.Equal(11, same.Select(r => r.Id).Append(first.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.True(string.CompareOrdinal(later.Id, first.Id) > 0);
        Assert.All(same, r => Assert.True(string.CompareOrdinal(later.Id, r.Id) > 0));
    }

    [Fact]
    public async Task QueryAsync_Filters_SelectMatchingRecordsNewestFirst()
    {
        var pseudonyms = _services.GetRequiredService<ICallerPseudonymizer>();
        await Trail.RecordAsync(Entry(action: "caller.lookup"));
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Trail.RecordAsync(Entry(action: "verification.push.start", outcome: AuditOutcome.Failed));
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Trail.RecordAsync(Entry(action: "verification.push.start") with { AgentSubjectId = "agent-sub-2", CallerId = "00uOTHER" });
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Trail.RecordAsync(Entry(action: "action.password_reset", outcome: AuditOutcome.Alarm));

        var all = await Trail.QueryAsync(Tenant, new AuditQuery());
        var byAction = await Trail.QueryAsync(Tenant, new AuditQuery { Action = "verification.push.start" });
        var byOutcome = await Trail.QueryAsync(Tenant, new AuditQuery { Outcome = AuditOutcome.Alarm });
        var byAgent = await Trail.QueryAsync(Tenant, new AuditQuery { AgentSubjectId = "agent-sub-2" });
        var byCaller = await Trail.QueryAsync(Tenant, new AuditQuery { CallerIdHash = pseudonyms.HashCallerId(Tenant, CallerId) });
        var byTime = await Trail.QueryAsync(Tenant, new AuditQuery { From = Start.AddMinutes(1), To = Start.AddMinutes(2) });

        Assert.Equal(["action.password_reset", "verification.push.start", "verification.push.start", "caller.lookup"], all.Records.Select(r => r.Action));
        Assert.Equal([Start.AddMinutes(3), Start.AddMinutes(2), Start.AddMinutes(1), Start], all.Records.Select(r => r.At));
        Assert.Equal([Start.AddMinutes(2), Start.AddMinutes(1)], byAction.Records.Select(r => r.At));
        Assert.Equal([Start.AddMinutes(3)], byOutcome.Records.Select(r => r.At));
        Assert.Equal([Start.AddMinutes(2)], byAgent.Records.Select(r => r.At));
        Assert.Equal([Start.AddMinutes(3), Start.AddMinutes(1), Start], byCaller.Records.Select(r => r.At));
        Assert.Equal([Start.AddMinutes(2), Start.AddMinutes(1)], byTime.Records.Select(r => r.At));
        Assert.Null(all.NextCursor);
    }

    [Fact]
    public async Task QueryAsync_Paging_VisitsEveryRecordOnceNewestFirst()
    {
        var written = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            // Pairs share a timestamp, so pages end inside ties.
            written.Add((await Trail.RecordAsync(Entry())).Id);
            if (i % 2 == 1)
            {
                _clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var seen = new List<AuditRecord>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Trail.QueryAsync(Tenant, new AuditQuery { PageSize = 5, Cursor = cursor });
            Assert.InRange(page.Records.Count, 1, 5);
            seen.AddRange(page.Records);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(written.Order(StringComparer.Ordinal), seen.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal(seen.OrderByDescending(r => r.At).ThenByDescending(r => r.Id, StringComparer.Ordinal).Select(r => r.Id), seen.Select(r => r.Id));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-5, 1)]
    [InlineData(1000, 200)]
    public async Task QueryAsync_PageSize_IsClamped(int requested, int expected)
    {
        for (var i = 0; i < 205; i++)
        {
            await Store.SetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "audit"), $"r{i:D3}"), DocumentJson.ToDocument(Sample(i)), null);
        }

        var page = await Trail.QueryAsync(Tenant, new AuditQuery { PageSize = requested });

        Assert.Equal(expected, page.Records.Count);
        Assert.NotNull(page.NextCursor);
    }

    [Theory]
    [InlineData("not base64 !")]
    [InlineData("bm8tc2VwYXJhdG9y")]
    [InlineData("MjAyNi0xMS0yM1QwOTowMDowMC4wMDAwMDAwWnwuLi8uLg")]
    public async Task QueryAsync_MalformedCursor_IsRejected(string cursor)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Trail.QueryAsync(Tenant, new AuditQuery { Cursor = cursor }));
        Assert.StartsWith("The audit cursor is not valid.", ex.Message, StringComparison.Ordinal);
        Assert.Equal("cursor", ex.ParamName);
    }

    [Theory]
    [InlineData("0000000000000000001-0011223344556677", true)]
    [InlineData("0000000000000000001x0011223344556677", false)]
    [InlineData("x000000000000000001-0011223344556677", false)]
    [InlineData("000000000000000000x-0011223344556677", false)]
    [InlineData("0000000000000000001-001122334455667G", false)]
    [InlineData("0000000000000000001-001122334455667A", false)]
    [InlineData("0000000000000000001-00112233445566778", false)]
    [InlineData("0000000000000000001-001122334455667", false)]
    [InlineData(null, false)]
    public void IsWellFormedId_NineteenDigitsADashSixteenLowercaseHexDigits(string? id, bool expected)
    {
        Assert.Equal(expected, AuditTrail.IsWellFormedId(id));
        Assert.True(AuditTrail.IsWellFormedId(AuditTrail.NewId(Start)));
    }

    [Fact]
    public async Task QueryAsync_OtherTenant_NeverSeesTheRecords()
    {
        var acme = await Trail.RecordAsync(Entry());
        await Trail.RecordAsync(Entry(tenant: "globex"));

        var acmePage = await Trail.QueryAsync(Tenant, new AuditQuery());
        var globexPage = await Trail.QueryAsync("globex", new AuditQuery());
        var emptyPage = await Trail.QueryAsync("initech", new AuditQuery());

        Assert.Equal([acme.Id], acmePage.Records.Select(r => r.Id));
        Assert.All(globexPage.Records, r => Assert.Equal("globex", r.TenantId));
        Assert.Single(globexPage.Records);
        Assert.Empty(emptyPage.Records);
        Assert.NotEqual(acmePage.Records[0].Caller!.IdHash, globexPage.Records[0].Caller!.IdHash);
    }

    private async Task<AuditRecord> Read(PendingAudit pending)
    {
        var document = await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(pending.TenantId, "audit"), pending.RecordId));
        return DocumentJson.FromDocument<AuditRecord>(document!.Data);
    }

    private List<string> ReadRawRows()
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM documents";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static AuditRecord Sample(int i) => new()
    {
        Id = $"r{i:D3}",
        TenantId = Tenant,
        At = Start.AddSeconds(i),
        Action = "caller.lookup",
        Outcome = AuditOutcome.Succeeded,
        Agent = new AuditAgent("agent-sub-1", "a***@e***.example"),
        ExpireAt = Start.AddDays(30),
    };

    private sealed class PerTenantRetention : IAuditRetention
    {
        public TimeSpan For(string tenantId) => tenantId switch
        {
            "brief" => TimeSpan.FromDays(7),
            "forever" => TimeSpan.FromDays(10_000),
            "none" => TimeSpan.FromHours(1),
            _ => TimeSpan.FromDays(30),
        };
    }
}
