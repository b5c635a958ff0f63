using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Storage.Firestore;

/// <summary>
/// JSON documents to Firestore <c>Value</c>s and back. Numbers stay faithful: a JSON integer that fits
/// 64 bits is an <c>integerValue</c>, every other number a <c>doubleValue</c>, so counters never turn into
/// doubles and range filters compare numbers as numbers.
/// </summary>
internal static class FirestoreValues
{
    /// <summary>Firestore stores timestamps to the microsecond.</summary>
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static JsonObject ToFields(JsonObject data)
    {
        var fields = new JsonObject();
        foreach (var (name, node) in data)
        {
            fields[name] = ToValue(node, insideArray: false);
        }

        return fields;
    }

    public static JsonObject FromFields(JsonObject? fields)
    {
        var data = new JsonObject();
        if (fields is null)
        {
            return data;
        }

        foreach (var (name, value) in fields)
        {
            data[name] = FromValue(value as JsonObject ?? throw new FormatException("A Firestore field is not a Value object."));
        }

        return data;
    }

    public static JsonObject ToValue(JsonNode? node) => ToValue(node, insideArray: false);

    public static JsonNode? FromValue(JsonObject value)
    {
        if (value.Count != 1)
        {
            throw new FormatException("A Firestore Value has exactly one kind.");
        }

        var (kind, payload) = value.First();
        return kind switch
        {
            "nullValue" => null,
            "booleanValue" => JsonValue.Create(payload!.GetValue<bool>()),
            // Numbers come back as parsed JSON (as from the SQLite backend), so GetValue<int>() works on a counter.
            "integerValue" => JsonValue.Create(JsonSerializer.SerializeToElement(ReadInteger(payload!))),
            "doubleValue" => JsonValue.Create(JsonSerializer.SerializeToElement(ReadDouble(payload!))),
            "stringValue" or "timestampValue" or "bytesValue" or "referenceValue" => JsonValue.Create(payload!.GetValue<string>()),
            "mapValue" => FromFields(payload?["fields"] as JsonObject),
            "arrayValue" => new JsonArray([.. (payload?["values"] as JsonArray ?? []).Select(v => FromValue(v as JsonObject ?? throw new FormatException("An array element is not a Value object.")))]),
            "geoPointValue" => payload!.DeepClone(),
            _ => throw new FormatException($"The Firestore value kind '{kind}' is not supported."),
        };
    }

    /// <summary>A query filter or cursor value, typed the way <see cref="ToValue(JsonNode?)"/> stores data.</summary>
    public static JsonObject FilterValue(object value) => value switch
    {
        string s => new JsonObject { ["stringValue"] = s },
        bool b => new JsonObject { ["booleanValue"] = b },
        int i => Integer(i),
        long l => Integer(l),
        short s => Integer(s),
        double d => Double(d),
        float f => Double(f),
        decimal m => Double((double)m),
        DateTimeOffset t => new JsonObject { ["stringValue"] = DocumentJson.FormatTimestamp(t) },
        DateTime t => new JsonObject { ["stringValue"] = DocumentJson.FormatTimestamp(new DateTimeOffset(DateTime.SpecifyKind(t, t.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : t.Kind))) },
        _ => throw new ArgumentException($"A query value of type {value?.GetType().Name ?? "null"} is not supported (string, bool, number or DateTimeOffset).", nameof(value)),
    };

    /// <summary>The expiry as Firestore's TTL policy needs it: a timestamp, truncated to the microsecond as Firestore stores it.</summary>
    public static JsonObject Timestamp(DateTimeOffset value) =>
        new() { ["timestampValue"] = TruncateToMicroseconds(value).UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture) };

    public static DateTimeOffset TruncateToMicroseconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    public static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static JsonObject ToValue(JsonNode? node, bool insideArray)
    {
        switch (node)
        {
            case null:
                return new JsonObject { ["nullValue"] = null };
            case JsonObject map:
                return map.Count == 0
                    ? new JsonObject { ["mapValue"] = new JsonObject() }
                    : new JsonObject { ["mapValue"] = new JsonObject { ["fields"] = ToFields(map) } };
            case JsonArray array:
                // Firestore has no array of arrays; failing here names the cause instead of an opaque INVALID_ARGUMENT.
                if (insideArray)
                {
                    throw new ArgumentException("Firestore cannot store an array directly inside an array; wrap the inner array in an object.");
                }

                var values = new JsonArray([.. array.Select(element => (JsonNode)ToValue(element, insideArray: true))]);
                return values.Count == 0
                    ? new JsonObject { ["arrayValue"] = new JsonObject() }
                    : new JsonObject { ["arrayValue"] = new JsonObject { ["values"] = values } };
            case JsonValue value:
                return value.GetValueKind() switch
                {
                    JsonValueKind.String => new JsonObject { ["stringValue"] = value.GetValue<string>() },
                    JsonValueKind.True => new JsonObject { ["booleanValue"] = true },
                    JsonValueKind.False => new JsonObject { ["booleanValue"] = false },
                    JsonValueKind.Number => Number(value.ToJsonString()),
                    JsonValueKind.Null => new JsonObject { ["nullValue"] = null },
                    var other => throw new ArgumentException($"A JSON {other} cannot be stored."),
                };
            default:
                throw new ArgumentException($"A {node.GetType().Name} cannot be stored.");
        }
    }

    private static JsonObject Number(string text)
    {
        if (text.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return Integer(integer);
        }

        return Double(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    private static JsonObject Integer(long value) => new() { ["integerValue"] = value.ToString(CultureInfo.InvariantCulture) };

    private static JsonObject Double(double value) =>
        double.IsFinite(value)
            ? new JsonObject { ["doubleValue"] = value }
            : throw new ArgumentException("Only finite numbers can be stored.", nameof(value));

    private static long ReadInteger(JsonNode payload) =>
        payload.GetValueKind() == JsonValueKind.String
            ? long.Parse(payload.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
            : payload.GetValue<long>();

    private static double ReadDouble(JsonNode payload)
    {
        var value = payload.GetValueKind() == JsonValueKind.String
            ? double.Parse(payload.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : payload.GetValue<double>();
        return double.IsFinite(value) ? value : throw new FormatException("A stored double is not a finite number, which JSON cannot hold.");
    }
}
