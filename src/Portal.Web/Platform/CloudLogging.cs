using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Portal.Web.Platform;

/// <summary>Settings of the Cloud Logging format (section <c>Portal:Logging</c>).</summary>
public sealed class CloudLoggingOptions : ConsoleFormatterOptions
{
    public const string Section = "Portal:Logging";

    /// <summary>
    /// The Google Cloud project the trace ids belong to (<c>projects/PROJECT/traces/TRACE_ID</c>). When empty,
    /// <c>Portal:Storage:Firestore:ProjectId</c>, then the <c>GOOGLE_CLOUD_PROJECT</c> environment variable; the
    /// metadata server is never asked (a start-up must not wait on the network to log).
    /// </summary>
    public string? ProjectId { get; set; }
}

/// <summary>
/// Writes each log entry as one line of JSON in Cloud Logging's structured format
/// (https://cloud.google.com/logging/docs/structured-logging): <c>severity</c>, <c>message</c>, <c>time</c>
/// (RFC 3339, UTC), the request's trace and span, the tenant as a label, and an exception in
/// <c>stack_trace</c> so Error Reporting groups it. Scopes are never written (they could carry request data).
/// </summary>
public sealed class CloudLoggingFormatter : ConsoleFormatter
{
    public const string FormatterName = "cloud-logging";

    /// <summary>The Activity tag holding the tenant a request is about, set once the tenant is known.</summary>
    public const string TenantTag = "portal.tenant";

    private readonly string? _projectId;
    private readonly TimeProvider _time;

    public CloudLoggingFormatter(IOptionsMonitor<CloudLoggingOptions> options)
        : this(options.CurrentValue.ProjectId, TimeProvider.System)
    {
    }

    public CloudLoggingFormatter(string? projectId, TimeProvider time)
        : base(FormatterName)
    {
        _projectId = string.IsNullOrWhiteSpace(projectId) ? null : projectId.Trim();
        _time = time;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? logEntry.State?.ToString() ?? "";
        string? tenant = null;
        if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            tenant = values.FirstOrDefault(v => v.Key == "TenantId").Value?.ToString();
        }

        textWriter.Write(Format(logEntry.LogLevel, logEntry.Category, logEntry.EventId, message, logEntry.Exception, tenant, Activity.Current, _projectId, _time.GetUtcNow()));
        textWriter.Write('\n');
    }

    /// <summary>One entry as one line (without the newline).</summary>
    public static string Format(LogLevel level, string category, EventId eventId, string message, Exception? exception, string? tenant, Activity? activity, string? projectId, DateTimeOffset time)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("severity", Severity(level));
            json.WriteString("message", message);
            json.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("category", category);
            if (eventId.Id != 0)
            {
                json.WriteNumber("eventId", eventId.Id);
            }

            if (activity is not null && activity.TraceId != default)
            {
                if (projectId is not null)
                {
                    json.WriteString("logging.googleapis.com/trace", $"projects/{projectId}/traces/{activity.TraceId.ToHexString()}");
                }
                else
                {
                    json.WriteString("traceId", activity.TraceId.ToHexString());
                }

                json.WriteString("logging.googleapis.com/spanId", activity.SpanId.ToHexString());
                json.WriteBoolean("logging.googleapis.com/trace_sampled", activity.Recorded);
            }

            tenant ??= TenantOf(activity);
            if (!string.IsNullOrEmpty(tenant))
            {
                json.WriteStartObject("logging.googleapis.com/labels");
                json.WriteString("tenant_id", tenant);
                json.WriteEndObject();
            }

            if (exception is not null)
            {
                // Error Reporting reads a stack trace from stack_trace (in the language's own format).
                json.WriteString("stack_trace", exception.ToString());
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Severity(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "DEFAULT",
    };

    private static string? TenantOf(Activity? activity)
    {
        for (var a = activity; a is not null; a = a.Parent)
        {
            if (a.GetTagItem(TenantTag) is string tenant)
            {
                return tenant;
            }
        }

        return null;
    }
}

/// <summary>
/// Reads the incoming trace from <c>traceparent</c> (W3C), or from Google's <c>X-Cloud-Trace-Context</c>
/// (<c>TRACE_ID/SPAN_ID;o=1</c>, span id in decimal) when there is no <c>traceparent</c>, so the request's
/// Activity, and every log entry of it, carries the trace Google's front end started.
/// </summary>
public sealed class CloudTracePropagator : DistributedContextPropagator
{
    private readonly DistributedContextPropagator _inner = CreateW3CPropagator();

    public override IReadOnlyCollection<string> Fields => _inner.Fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) => _inner.Inject(activity, carrier, setter);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) => _inner.ExtractBaggage(carrier, getter);

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        _inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);
        if (traceId is not null || getter is null)
        {
            return;
        }

        getter(carrier, "x-cloud-trace-context", out var value, out _);
        traceId = FromCloudTraceContext(value);
    }

    /// <summary>The <c>traceparent</c> equivalent of an <c>X-Cloud-Trace-Context</c> value, or null when it is not one.</summary>
    public static string? FromCloudTraceContext(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128)
        {
            return null;
        }

        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var trace = slash < 0 ? value : value[..slash];
        if (trace.Length != 32 || !trace.All(Uri.IsHexDigit) || trace.All(c => c == '0'))
        {
            return null;
        }

        ulong span = 0;
        var sampled = false;
        if (slash >= 0)
        {
            var rest = value[(slash + 1)..];
            var semicolon = rest.IndexOf(';', StringComparison.Ordinal);
            var spanText = semicolon < 0 ? rest : rest[..semicolon];
            if (!ulong.TryParse(spanText, NumberStyles.None, CultureInfo.InvariantCulture, out span))
            {
                span = 0;
            }

            sampled = semicolon >= 0 && rest[(semicolon + 1)..].Trim() == "o=1";
        }

        // A span id of zero is invalid in W3C trace context; the trace id is what joins the entries.
        var spanHex = (span == 0 ? 1UL : span).ToString("x16", CultureInfo.InvariantCulture);
        return $"00-{trace.ToLowerInvariant()}-{spanHex}-{(sampled ? "01" : "00")}";
    }
}

/// <summary>
/// A start-up failure outside Development: one structured ERROR entry (the messages name the setting), and a
/// non-zero exit, instead of the runtime's multi-line unhandled-exception dump.
/// </summary>
public static class StartupFailure
{
    public const int ExitCode = 3;

    /// <summary>Whether to report <paramref name="failure"/> this way (never the test host's own stop signal, never in Development).</summary>
    public static bool Handles(Exception failure, string? environmentName) =>
        failure is not HostAbortedException
        && !string.Equals(environmentName ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT"), Environments.Development, StringComparison.OrdinalIgnoreCase);

    public static int Report(Exception failure, IConfiguration? configuration, TextWriter output)
    {
        var messages = Messages(failure).Distinct(StringComparer.Ordinal).ToList();
        var settingsError = failure is OptionsValidationException || messages.Any(m => m.Contains("Portal:", StringComparison.Ordinal) || m.Contains("ASPNETCORE_", StringComparison.Ordinal));
        var line = CloudLoggingFormatter.Format(
            LogLevel.Error,
            "Portal.Web.Startup",
            new EventId(PortalEvents.StartupFailed, "StartupFailed"),
            "The portal did not start: " + string.Join(" ", messages),
            settingsError ? null : failure,
            null,
            null,
            ProjectId(configuration),
            DateTimeOffset.UtcNow);
        output.WriteLine(line);
        output.Flush();
        return ExitCode;
    }

    public static string? ProjectId(IConfiguration? configuration) =>
        NonEmpty(configuration?["Portal:Logging:ProjectId"])
        ?? NonEmpty(configuration?["Portal:Storage:Firestore:ProjectId"])
        ?? NonEmpty(Environment.GetEnvironmentVariable("GOOGLE_CLOUD_PROJECT"));

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static IEnumerable<string> Messages(Exception e) => e switch
    {
        OptionsValidationException options => options.Failures,
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Messages),
        _ when e.InnerException is { } inner && e is TargetInvocationException or TypeInitializationException => Messages(inner),
        _ => [e.Message],
    };
}

/// <summary>Registers the Cloud Logging format on the console (outside Development).</summary>
public static class CloudLoggingSetup
{
    public static void AddCloudLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.FormatterName = CloudLoggingFormatter.FormatterName);
        builder.Logging.AddConsoleFormatter<CloudLoggingFormatter, CloudLoggingOptions>(o =>
        {
            o.IncludeScopes = false;
            o.ProjectId = StartupFailure.ProjectId(builder.Configuration);
        });
    }
}
