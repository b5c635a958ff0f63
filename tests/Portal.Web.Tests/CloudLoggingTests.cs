using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Web.Platform;

namespace Portal.Web.Tests;

/// <summary>Production logs in Cloud Logging's structured format, and the trace taken from Google's front end.</summary>
public sealed class CloudLoggingTests
{
    private const string Trace = "105445aa7843bc8bf206b12000100000";

    [Theory]
    [InlineData(LogLevel.Debug, "DEBUG")]
    [InlineData(LogLevel.Information, "INFO")]
    [InlineData(LogLevel.Warning, "WARNING")]
    [InlineData(LogLevel.Error, "ERROR")]
    [InlineData(LogLevel.Critical, "CRITICAL")]
    public void Entry_HasSeverityMessageTimeTraceSpanAndTenantLabel(LogLevel level, string severity)
    {
        using var activity = new Activity("request").SetParentId($"00-{Trace}-00f067aa0ba902b7-01").Start();
        activity.SetTag(CloudLoggingFormatter.TenantTag, "acme");
        var formatter = new CloudLoggingFormatter("portal-prod", new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 9, 30, 1, TimeSpan.Zero)));
        var output = new StringWriter();

        formatter.Write(new Microsoft.Extensions.Logging.Abstractions.LogEntry<string>(level, "Portal.Web.Test", new EventId(7), "hello", null, (s, _) => s + " world"), null, output);

        var text = output.ToString();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var entry = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(severity, (string?)entry["severity"]);
        Assert.Equal("hello world", (string?)entry["message"]);
        Assert.Equal("2026-11-30T09:30:01.0000000Z", (string?)entry["time"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 9, 30, 1, TimeSpan.Zero), DateTimeOffset.Parse((string)entry["time"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal($"projects/portal-prod/traces/{Trace}", (string?)entry["logging.googleapis.com/trace"]);
        Assert.Equal(activity.SpanId.ToHexString(), (string?)entry["logging.googleapis.com/spanId"]);
        Assert.Equal("acme", (string?)entry["logging.googleapis.com/labels"]!["tenant_id"]);
        Assert.Null(entry["stack_trace"]);
    }

    [Fact]
    public void Entry_WithException_CarriesTheStackTraceOnOneLine()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("broken");
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }

        var line = CloudLoggingFormatter.Format(LogLevel.Error, "c", default, "failed", thrown, "t1", null, null, DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain('\n', line);
        var entry = JsonNode.Parse(line)!.AsObject();
        Assert.Contains("InvalidOperationException: broken", (string?)entry["stack_trace"], StringComparison.Ordinal);
        Assert.Contains(nameof(Entry_WithException_CarriesTheStackTraceOnOneLine), (string?)entry["stack_trace"], StringComparison.Ordinal);
        Assert.Equal("t1", (string?)entry["logging.googleapis.com/labels"]!["tenant_id"]);
    }

    [Fact]
    public void TenantIdOfTheMessage_IsTheLabel()
    {
        var formatter = new CloudLoggingFormatter(null, TimeProvider.System);
        var output = new StringWriter();
        var state = new List<KeyValuePair<string, object?>> { new("TenantId", "globex"), new("{OriginalFormat}", "x {TenantId}") };

        formatter.Write(new Microsoft.Extensions.Logging.Abstractions.LogEntry<List<KeyValuePair<string, object?>>>(LogLevel.Information, "c", default, state, null, (_, _) => "x globex"), null, output);

        Assert.Equal("globex", (string?)JsonNode.Parse(output.ToString())!["logging.googleapis.com/labels"]!["tenant_id"]);
    }

    [Theory]
    [InlineData(Trace + "/1;o=1", "00-" + Trace + "-0000000000000001-01")]
    [InlineData(Trace + "/18446744073709551615;o=0", "00-" + Trace + "-ffffffffffffffff-00")]
    [InlineData(Trace, "00-" + Trace + "-0000000000000001-00")]
    [InlineData("not-a-trace/1;o=1", null)]
    [InlineData("00000000000000000000000000000000/1;o=1", null)]
    [InlineData("", null)]
    public void CloudTraceContext_BecomesATraceparent(string header, string? expected)
    {
        Assert.Equal(expected, CloudTracePropagator.FromCloudTraceContext(header));
    }

    [Fact]
    public void StartupFailure_IsOneErrorEntryNamingTheSetting_WithoutAStackTrace()
    {
        var output = new StringWriter();
        var failure = new OptionsValidationException("web", typeof(WebOptions), ["Portal:Web:PublicBaseUrl is required outside Development: the portal's public origin."]);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Firestore:ProjectId"] = "p1" }).Build();

        var exit = StartupFailure.Report(failure, configuration, output);

        Assert.NotEqual(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var entry = JsonNode.Parse(Assert.Single(lines))!.AsObject();
        Assert.Equal("ERROR", (string?)entry["severity"]);
        Assert.Contains("Portal:Web:PublicBaseUrl is required", (string?)entry["message"], StringComparison.Ordinal);
        Assert.Null(entry["stack_trace"]);
        Assert.True(StartupFailure.Handles(failure, "Production"));
        Assert.False(StartupFailure.Handles(failure, "Development"));
        Assert.False(StartupFailure.Handles(new Microsoft.Extensions.Hosting.HostAbortedException(), "Production"));
    }

    [Fact]
    public void ProjectId_FromLoggingSettingThenFirestoreSetting()
    {
        var both = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Logging:ProjectId"] = "logs", ["Portal:Storage:Firestore:ProjectId"] = "store" }).Build();
        var store = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Firestore:ProjectId"] = "store" }).Build();

        Assert.Equal("logs", StartupFailure.ProjectId(both));
        Assert.Equal("store", StartupFailure.ProjectId(store));
    }

    [Fact]
    public void EntriesAreValidJson_EvenWithQuotesAndNewlinesInTheMessage()
    {
        var line = CloudLoggingFormatter.Format(LogLevel.Warning, "c", default, "a \"quoted\"\r\nline", null, null, null, null, DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain('\n', line);
        Assert.Equal("a \"quoted\"\r\nline", JsonDocument.Parse(line).RootElement.GetProperty("message").GetString());
    }
}
