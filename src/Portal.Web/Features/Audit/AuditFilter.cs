using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Web.Features.Audit;

/// <summary>
/// The audit filters as they arrive from a query string or a form. Every value is checked before it
/// reaches a store query; the tenant is never one of them (it comes from the session or the API key).
/// </summary>
public sealed partial class AuditFilterInput
{
    /// <summary>UTC, <c>yyyy-MM-dd</c> or <c>yyyy-MM-ddTHH:mm[:ss]</c>; inclusive.</summary>
    public string? From { get; set; }

    /// <summary>UTC; a date alone means the end of that day. Inclusive.</summary>
    public string? To { get; set; }

    public string? Action { get; set; }

    public string? Outcome { get; set; }

    /// <summary>The agent's IdP subject id (or <c>apikey:{id}</c>).</summary>
    public string? Agent { get; set; }

    /// <summary>The caller's pseudonym (64 hex digits); a login is searched for by POST, never in a URL.</summary>
    public string? Caller { get; set; }

    private static readonly string[] DateTimeFormats = ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'"];

    /// <summary>The store query, or the problems with the input.</summary>
    public (AuditQuery Query, IReadOnlyList<string> Errors) ToQuery()
    {
        var errors = new List<string>();
        var query = new AuditQuery
        {
            From = Time(From, endOfDay: false, "From", errors),
            To = Time(To, endOfDay: true, "To", errors),
            Action = Checked(Action, ActionPattern(), "Action is a name such as action.password_reset.", errors),
            AgentSubjectId = Checked(Agent, AgentPattern(), "Agent is the agent's subject id.", errors),
            CallerIdHash = Checked(Caller?.ToLowerInvariant(), CallerPattern(), "Caller is a pseudonym of 64 hex digits; search a login with the caller search.", errors),
        };
        if (!string.IsNullOrWhiteSpace(Outcome))
        {
            if (Enum.TryParse<AuditOutcome>(Outcome.Trim(), ignoreCase: true, out var outcome) && Enum.IsDefined(outcome) && !int.TryParse(Outcome, out _))
            {
                query = query with { Outcome = outcome };
            }
            else
            {
                errors.Add("Outcome is one of " + string.Join(", ", Enum.GetNames<AuditOutcome>()) + ".");
            }
        }

        if (query.From is { } from && query.To is { } to && from > to)
        {
            errors.Add("From is after To.");
        }

        return (query, errors);
    }

    /// <summary>The filter as query-string pairs, for paging links and the export form.</summary>
    public IEnumerable<KeyValuePair<string, string>> Pairs()
    {
        var (query, _) = ToQuery();
        if (query.From is not null)
        {
            yield return new("from", From!.Trim());
        }

        if (query.To is not null)
        {
            yield return new("to", To!.Trim());
        }

        if (query.Action is not null)
        {
            yield return new("action", query.Action);
        }

        if (query.Outcome is { } outcome)
        {
            yield return new("outcome", outcome.ToString());
        }

        if (query.AgentSubjectId is not null)
        {
            yield return new("agent", query.AgentSubjectId);
        }

        if (query.CallerIdHash is not null)
        {
            yield return new("caller", query.CallerIdHash);
        }
    }

    /// <summary>What an export's audit record says about it: rows first, as the reason may be cut at 200 characters.</summary>
    public static string Describe(AuditQuery query, AuditExportFormat format, long? rows)
    {
        var text = new StringBuilder();
        text.Append(rows is { } n ? "rows=" + n.ToString(CultureInfo.InvariantCulture) : "rows=incomplete");
        text.Append(" format=").Append(format == AuditExportFormat.Csv ? "csv" : "ndjson");
        if (query.From is { } from)
        {
            text.Append(" from=").Append(DocumentJson.FormatTimestamp(from)[..19]);
        }

        if (query.To is { } to)
        {
            text.Append(" to=").Append(DocumentJson.FormatTimestamp(to)[..19]);
        }

        if (query.Action is not null)
        {
            text.Append(" action=").Append(query.Action);
        }

        if (query.Outcome is { } outcome)
        {
            text.Append(" outcome=").Append(outcome.ToString().ToLowerInvariant());
        }

        if (query.AgentSubjectId is not null)
        {
            text.Append(" agent=").Append(query.AgentSubjectId);
        }

        if (query.CallerIdHash is not null)
        {
            text.Append(" caller=").Append(query.CallerIdHash.AsSpan(0, 16)).Append('…');
        }

        return text.ToString();
    }

    private static DateTimeOffset? Time(string? value, bool endOfDay, string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        const DateTimeStyles styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
        if (DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, styles, out var day))
        {
            var start = new DateTimeOffset(DateTime.SpecifyKind(day, DateTimeKind.Utc));
            return endOfDay ? start.AddDays(1).AddTicks(-1) : start;
        }

        if (DateTime.TryParseExact(text, DateTimeFormats, CultureInfo.InvariantCulture, styles, out var at))
        {
            return new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
        }

        errors.Add($"{name} is a UTC date (yyyy-MM-dd) or date and time (yyyy-MM-ddTHH:mm).");
        return null;
    }

    private static string? Checked(string? value, Regex pattern, string message, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        if (pattern.IsMatch(text))
        {
            return text;
        }

        errors.Add(message);
        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._:-]{0,99}$")]
    private static partial Regex ActionPattern();

    [GeneratedRegex("^[A-Za-z0-9._:|@-]{1,200}$")]
    private static partial Regex AgentPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex CallerPattern();
}
