package io.hodei.http.grpc;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * Converts protobuf messages to and from the JSON the domains speak, by the messages' descriptors: a proto field is
 * the JSON member of the same (snake_case) name.
 *
 * <p>Towards a domain only what the client actually set is sent: a field with presence ({@code optional}, message)
 * when it is set, any other field when it differs from its proto default. So an unset {@code optional int32 weight}
 * is absent (the domain applies its default) while an explicit {@code weight: 0} is sent and rejected by the domain,
 * exactly as in REST. From a domain's reply, unknown members and nulls are ignored.
 */
final class ProtoJson {
  private ProtoJson() {}

  /** The members the client set, by the rule above. */
  static JsonObject toJson(Message message) {
    JsonObject json = new JsonObject();
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      if (field.isMapField()) {
        JsonObject map = mapToJson(message, field);
        if (!map.isEmpty()) json.put(field.getName(), map);
      } else if (field.isRepeated()) {
        if (message.getRepeatedFieldCount(field) == 0) continue;
        JsonArray array = new JsonArray();
        for (Object item : (List<?>) message.getField(field)) array.add(toJsonValue(field, item));
        json.put(field.getName(), array);
      } else if (field.hasPresence() ? message.hasField(field)
          : !message.getField(field).equals(field.getDefaultValue())) {
        json.put(field.getName(), toJsonValue(field, message.getField(field)));
      }
    }
    return json;
  }

  private static JsonObject mapToJson(Message message, FieldDescriptor field) {
    JsonObject map = new JsonObject();
    for (Object item : (List<?>) message.getField(field)) {
      Message entry = (Message) item;
      FieldDescriptor key = entry.getDescriptorForType().findFieldByName("key");
      FieldDescriptor value = entry.getDescriptorForType().findFieldByName("value");
      map.put(String.valueOf(entry.getField(key)), toJsonValue(value, entry.getField(value)));
    }
    return map;
  }

  private static Object toJsonValue(FieldDescriptor field, Object value) {
    return switch (field.getJavaType()) {
      case MESSAGE -> toJson((Message) value);
      case ENUM -> ((EnumValueDescriptor) value).getName();
      case BYTE_STRING -> ((com.google.protobuf.ByteString) value).toByteArray();
      default -> value;
    };
  }

  /** Fills {@code builder} from a domain reply; members without a field of the same name are ignored. */
  @SuppressWarnings("unchecked")
  static <T extends Message> T fromJson(JsonObject json, Message.Builder builder) {
    for (FieldDescriptor field : builder.getDescriptorForType().getFields()) {
      Object value = json.getValue(field.getName());
      if (value == null) continue;
      if (field.isMapField()) {
        for (Map.Entry<String, Object> member : (JsonObject) value) {
          if (member.getValue() == null) continue;
          Message.Builder entry = builder.newBuilderForField(field);
          FieldDescriptor key = entry.getDescriptorForType().findFieldByName("key");
          FieldDescriptor entryValue = entry.getDescriptorForType().findFieldByName("value");
          entry.setField(key, member.getKey());
          entry.setField(entryValue, fromJsonValue(entryValue, member.getValue(), entry));
          builder.addRepeatedField(field, entry.build());
        }
      } else if (field.isRepeated()) {
        for (Object item : (JsonArray) value) {
          if (item != null) builder.addRepeatedField(field, fromJsonValue(field, item, builder));
        }
      } else {
        builder.setField(field, fromJsonValue(field, value, builder));
      }
    }
    return (T) builder.build();
  }

  private static Object fromJsonValue(FieldDescriptor field, Object value, Message.Builder parent) {
    return switch (field.getJavaType()) {
      case INT -> ((Number) value).intValue();
      case LONG -> ((Number) value).longValue();
      case FLOAT -> ((Number) value).floatValue();
      case DOUBLE -> ((Number) value).doubleValue();
      case BOOLEAN -> (Boolean) value;
      case STRING -> value.toString();
      case BYTE_STRING -> com.google.protobuf.ByteString.copyFrom(
          value instanceof byte[] bytes ? bytes : java.util.Base64.getDecoder().decode(value.toString()));
      case ENUM -> {
        EnumValueDescriptor found = field.getEnumType().findValueByName(value.toString());
        if (found == null) throw new IllegalStateException(field.getFullName() + " has no value " + value);
        yield found;
      }
      case MESSAGE -> fromJson((JsonObject) value, parent.newBuilderForField(field));
    };
  }
}
