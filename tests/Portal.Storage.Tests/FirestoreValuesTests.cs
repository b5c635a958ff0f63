using System.Text.Json.Nodes;
using Portal.Storage.Firestore;

namespace Portal.Storage.Tests;

public sealed class FirestoreValuesTests
{
    // What goes over the wire is text: every round trip here is serialised and parsed as the REST API would.
    private static JsonObject OverTheWire(JsonObject data) =>
        FirestoreValues.FromFields(JsonNode.Parse(FirestoreValues.ToFields(data).ToJsonString())!.AsObject());

    [Fact]
    public void ToFields_NestedObjectsArraysAndDifficultStrings_RoundTripExactly()
    {
        var data = new JsonObject
        {
            ["text"] = "quote \" apostrophe ' backslash \\ newline \n ünïcödé 日本語 🔐",
            ["nested"] = new JsonObject { ["deeper"] = new JsonObject { ["list"] = new JsonArray("a\"b", 1, 2.5, true, null, new JsonObject { ["k"] = "v" }) } },
            ["empty"] = new JsonObject(),
            ["none"] = new JsonArray(),
            ["nothing"] = null,
            ["flag"] = false,
        };

        var read = OverTheWire(data);

        Assert.True(JsonNode.DeepEquals(data, read), read.ToJsonString());
    }

    [Fact]
    public void ToValue_Integers_AreIntegerValuesAsText()
    {
        var value = FirestoreValues.ToValue(JsonValue.Create(long.MaxValue));

        Assert.Equal("9223372036854775807", value["integerValue"]!.GetValue<string>());
        Assert.Equal("-5", FirestoreValues.ToValue(JsonNode.Parse("-5"))["integerValue"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("0.1", 0.1)]
    [InlineData("1e3", 1000d)]
    [InlineData("2.0", 2d)]
    [InlineData("100000000000000000000", 1e20)]
    public void ToValue_NonIntegers_AreDoubleValues(string json, double expected)
    {
        var value = FirestoreValues.ToValue(JsonNode.Parse(json));

        Assert.False(value.ContainsKey("integerValue"));
        Assert.Equal(expected, value["doubleValue"]!.GetValue<double>());
    }

    [Fact]
    public void FromValue_Integer_ReadsBackAsAnyIntegerType()
    {
        var read = OverTheWire(new JsonObject { ["count"] = 7, ["real"] = 0.5 });

        Assert.Equal(7, read["count"]!.GetValue<int>());
        Assert.Equal(7L, read["count"]!.GetValue<long>());
        Assert.Equal(0.5, read["real"]!.GetValue<double>());
        Assert.Equal("7", read["count"]!.ToJsonString());
    }

    [Fact]
    public void ToValue_ArrayInsideArray_IsRefusedWithTheReason()
    {
        var ex = Assert.Throws<ArgumentException>(() => FirestoreValues.ToFields(new JsonObject { ["grid"] = new JsonArray(new JsonArray(1, 2)) }));

        Assert.Contains("array directly inside an array", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FilterValue_Timestamp_IsTheFixedWidthTextDataHolds()
    {
        var at = new DateTimeOffset(2026, 11, 23, 8, 36, 50, TimeSpan.FromHours(1)).AddTicks(1234567);

        var value = FirestoreValues.FilterValue(at);

        Assert.Equal(DocumentJson.FormatTimestamp(at), value["stringValue"]!.GetValue<string>());
        Assert.Equal("2026-11-23T07:36:50.1234567Z", value["stringValue"]!.GetValue<string>());
    }

    [Fact]
    public void FilterValue_Numbers_KeepTheirKind()
    {
        Assert.Equal("9", FirestoreValues.FilterValue(9L)["integerValue"]!.GetValue<string>());
        Assert.Equal("9", FirestoreValues.FilterValue(9)["integerValue"]!.GetValue<string>());
        Assert.Equal(9.5, FirestoreValues.FilterValue(9.5)["doubleValue"]!.GetValue<double>());
        Assert.True(FirestoreValues.FilterValue(true)["booleanValue"]!.GetValue<bool>());
        Assert.Throws<ArgumentException>(() => FirestoreValues.FilterValue(Guid.Empty));
    }

    [Fact]
    public void Timestamp_SubMicrosecondTicks_AreTruncatedAsFirestoreStoresThem()
    {
        var at = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero).AddTicks(1234567);

        var value = FirestoreValues.Timestamp(at)["timestampValue"]!.GetValue<string>();

        Assert.Equal("2026-11-23T08:00:00.123456Z", value);
        Assert.Equal(at.AddTicks(-7), FirestoreValues.ParseTimestamp(value));
    }
}
